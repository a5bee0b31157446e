/*
 * exdata.c - ex_data indices whose values OpenSSL frees with their owner.
 */
#include <openssl/crypto.h>

#include "exdata.h"

static void free_block(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                       long argl, void *argp)
{
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  OPENSSL_free(ptr);
}

int sslua_exdata_ctx_index(void)
{
  return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_block);
}

int sslua_exdata_ssl_index(void)
{
  return SSL_get_ex_new_index(0, NULL, NULL, NULL, free_block);
}

void *sslua_exdata_ctx_block(SSL_CTX *ctx, int index, size_t size)
{
  void *block = SSL_CTX_get_ex_data(ctx, index);
  if (block != NULL)
    return block;
  if ((block = OPENSSL_zalloc(size)) == NULL)
    return NULL;
  if (!SSL_CTX_set_ex_data(ctx, index, block)) {
    OPENSSL_free(block);
    return NULL;
  }
  return block;
}
