/*
 * groups.h - key exchange groups of a context: finite-field DH parameters
 * (dhparam) and the elliptic-curve / named-group lists (curve, curveslist).
 */
#ifndef SSLUA_GROUPS_H
#define SSLUA_GROUPS_H

#include "feature.h"

/* context.setdhparam(ctx, fn), context.setcurve(ctx, name),
 * context.setcurveslist(ctx, list): each `true` or `false, message`. */
extern const sslua_feature sslua_groups_feature;

#endif
