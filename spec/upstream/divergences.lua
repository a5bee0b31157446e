-- spec/upstream/divergences.lua - every expected difference between the
-- suite's verdict on sslua and on upstream LuaSec, for `make spec-upstream`
-- (Debian's LuaSec 1.2.0) and `make spec-upstream UPSTREAM=1.3.2` (LuaSec
-- 1.3.2 built with its own Makefile by ci/upstream-build); see
-- ci/spec-upstream and spec/upstream/output.lua.
--
-- Each entry: file (a path suffix; optional with name/match), name (the
-- test's full name, as busted prints it) or match (a Lua pattern over it;
-- the first entry that matches a test is the one that counts), kind,
-- reason, and optionally upstream: the one LuaSec version ("1.2.0" or
-- "1.3.2") the entry is for (absent: both). Kinds:
--   fault       LuaSec does something wrong that sslua fixes
--   lacks       a feature or method that LuaSec (that version) does not have
--   deliberate  a difference on purpose, listed in doc/luasec-differences.md
--   crash       upstream segfaults: with SSLUA_UPSTREAM=1 the test is not
--               run but marked pending with the reason (so the rest of its
--               file still runs); ci/spec-upstream then runs it alone
--               (replay_crashes.lua) and its process must die from a
--               signal; an entry with only `file` means the whole file's
--               busted process dies
--   harness     the run itself, not the module, makes the difference
--   timing      upstream's verdict depends on timing: either verdict is
--               accepted (a pass counts as same), the reason says why
-- A listed test that passes, an unlisted one that fails, and an entry that
-- matches nothing all fail the run (spec/upstream/summarize.lua).
local list = {}
-- why = { kind, reason [, upstream = version] }
local function add(why, file, names)
  for _, name in ipairs(names) do
    list[#list + 1] = { file = file, name = name, kind = why[1], reason = why[2], upstream = why.upstream }
  end
end
local function add_match(why, file, pattern)
  list[#list + 1] = { file = file, match = pattern, kind = why[1], reason = why[2], upstream = why.upstream }
end

-- Reasons shared by several files.
local VERIFY_REASON = { "deliberate", "sslua's handshake message for a failed verification carries OpenSSL's verify reason (past the leaf also the depth and subject): 'certificate verify failed (<reason>)'; LuaSec's is the bare 'certificate verify failed' (doc/luasec-differences.md: A failed verification says why)" }
local SNI_NOTHING = { "deliberate", "LuaSec's conn:sni() returns nothing, and the test asserts sslua's true (doc/luasec-differences.md: Other deliberate differences)" }

-- Crashes: segfaults or aborts of the whole Lua process. These come first:
-- the first entry that matches a test counts, and a test that crashes one
-- version may be listed below for another reason.
local CRASH_CLOSED = { "crash", "LuaSec uses the SSL or SSL_CTX it has already freed when this method is called on a closed connection or context: segmentation fault" }
add_match(CRASH_CLOSED, "spec/groups_spec.lua", "^%a+ on a closed context")
add(CRASH_CLOSED, "spec/lifetime_spec.lua", {
  "connection methods in every state dohandshake when closed",
  "connection methods in every state sni when closed",
  "connection methods in every state getsniname when closed",
  "connection methods in every state getalpn when closed",
  "connection methods in every state setdane when closed",
  "connection methods in every state settlsa when closed",
})
add({ "crash", "LuaSec runs its callbacks inside OpenSSL's handshake with nothing to stop one from closing the connection: the SSL object OpenSSL is still using is freed and the process aborts (SIGABRT)" },
  "spec/lifetime_spec.lua", { "connection methods in every state survives a callback that closes its own connection mid-handshake" })
add(CRASH_CLOSED, "spec/dane_spec.lua", {
  "dane setdane and settlsa in every connection state closed, before or after a handshake: 'closed' (LuaSec segfaults)",
})
add({ "crash", "LuaSec 1.3.2's context.setclientpskcb/setserverpskcb/setpskhint on a context after its __close use the freed SSL_CTX: segmentation fault", upstream = "1.3.2" },
  "spec/psk_spec.lua", { "psk the PSK functions on a closed context: false, 'closed'" })
add({ "crash", "a PSK function that closes its own connection: LuaSec 1.3.2 runs it inside OpenSSL's handshake and goes on with the freed SSL object: segmentation fault", upstream = "1.3.2" },
  "spec/callback_errors_spec.lua", {
  "a callback closing its own connection psk function (client)",
  "a callback closing its own connection psk function (server)",
})

local CURVE = { "fault", "LuaSec's curve takes one name of its own table of elliptic curves: X25519, X448, the ffdhe groups and colon lists are 'elliptic curve ... not supported', and a failed call or a non-string value raises (doc/luasec-differences.md: Groups)" }
add(CURVE, "spec/groups_spec.lua", {
  "curve accepts the single group X25519",
  "curve accepts the single group X448",
  "curve accepts the single group ffdhe2048",
  "curve accepts a colon list (LuaSec rejects lists)",
  "curve an unknown name in a list: the message names that element",
  "curve a failed call leaves the groups the context had",
  "curve a non-string value is reported, not raised",
  "curve a server's curve list: the group is one of the list",
})

local W1 = { "deliberate", "LuaSec's dhparam is a per-handshake temporary-DH callback (deprecated in OpenSSL 3); sslua calls it once at newcontext with (false, 2048) and checks the result (doc/luasec-differences.md: dhparam is called once, at newcontext)" }
add(W1, "spec/groups_spec.lua", {
  "dhparam calls the function once, at once, with LuaSec's arguments (false, 2048)",
  "dhparam nil from the function keeps OpenSSL's automatic DH parameters",
  "dhparam the parameters returned are the ones a peer sees (ffdhe3072 -> DH 3072 bits)",
  "dhparam a Lua error in the function: false, 'invalid DH parameters (<message>)'",
  "dhparam a bad PEM: false, 'invalid DH parameters (<OpenSSL reason>)'",
  "dhparam parameters that are not DH, or too weak for the security level, are refused",
  "dhparam a result of the wrong type: false, 'invalid DH parameters (string expected, got T)'",
  "dhparam a dhparam that is not a function: 'invalid DH parameter type'",
})

local W2 = { "deliberate", "the ssl.https differences doc/luasec-differences.md lists: no SNI for IP literals, the caller's timeouts and 'timeout', TLS settings kept on redirects, the caller's table left alone, sslua's default options and fields" }
add(W2, "spec/https_spec.lua", {
  "ssl.https module has LuaSec's fields",
  "ssl.https against openssl s_server -WWW table form pumps into the sink, returns 1, and leaves the table alone",
  "ssl.https against openssl s_server -WWW tcp() objects act as LuaSocket TCP objects over TLS",
  "ssl.https against openssl s_server -WWW tcp() objects report connect errors",
  "ssl.https against a Lua HTTPS server https.request follows redirects keeping the caller's TLS parameters",
  "ssl.https against a Lua HTTPS server sends SNI for host names, none for IP literals",
  "ssl.https against a Lua HTTPS server a request that is never answered fails after https.TIMEOUT",
  "ssl.https SNI oracle: s_server -servername localhost -servername_fatal sees no SNI from https.request or socket.http for 127.0.0.1",
  "ssl.https SNI oracle: s_server -servername localhost -servername_fatal sees no SNI for an IPv6 literal",
  "ssl.https timeouts during the handshake (a peer that never answers) https.request uses https.TIMEOUT",
  "ssl.https timeouts during the handshake (a peer that never answers) https.request also honours a shorter socket.http.TIMEOUT",
  "ssl.https timeouts during the handshake (a peer that never answers) socket.http.request honours the caller's timeout (LuaSec ignored it)",
  "ssl.https timeouts during the handshake (a peer that never answers) a tcp() object applies settimeout made before connect",
})

local W3 = { "lacks", "LuaSec connections have no setoption()/getoption() (LuaSocket's methods are not passed through); the io spec sets tcp-nodelay on the TLS connection" }
add(W3, "spec/io_spec.lua", {
  "conn:receive, differential against LuaSocket (blocking) lines ending in CRLF",
  "conn:receive, differential against LuaSocket (blocking) bare CRs inside lines are dropped, LF ends the line",
  "conn:receive, differential against LuaSocket (blocking) empty lines",
  "conn:receive, differential against LuaSocket (blocking) a last line without LF, then close",
  "conn:receive, differential against LuaSocket (blocking) a last line without LF and no close times out with the partial",
  "conn:receive, differential against LuaSocket (blocking) default pattern: no argument, nil, nil with prefix",
  "conn:receive, differential against LuaSocket (blocking) patterns are matched by their first two characters",
  "conn:receive, differential against LuaSocket (blocking) *a with data, then close",
  "conn:receive, differential against LuaSocket (blocking) *a with no data before the close",
  "conn:receive, differential against LuaSocket (blocking) *a without close times out with everything so far",
  "conn:receive, differential against LuaSocket (blocking) *a after the stream already ended",
  "conn:receive, differential against LuaSocket (blocking) counts smaller, equal and larger than what is left, then close",
  "conn:receive, differential against LuaSocket (blocking) a count larger than everything, then close",
  "conn:receive, differential against LuaSocket (blocking) a count larger than what is available, no close",
  "conn:receive, differential against LuaSocket (blocking) a count equal to what is available, no close",
  "conn:receive, differential against LuaSocket (blocking) count 0 with and without data available",
  "conn:receive, differential against LuaSocket (blocking) count 0 at the end of a closed stream",
  "conn:receive, differential against LuaSocket (blocking) numeric strings as counts",
  "conn:receive, differential against LuaSocket (blocking) floats as counts are truncated",
  "conn:receive, differential against LuaSocket (blocking) a prefix with each pattern",
  "conn:receive, differential against LuaSocket (blocking) a prefix longer than (or as long as) the count",
  "conn:receive, differential against LuaSocket (blocking) numbers as prefixes",
  "conn:receive, differential against LuaSocket (blocking) an empty prefix is no prefix",
  "conn:receive, differential against LuaSocket (blocking) data split across many records, one byte per send",
  "conn:receive, differential against LuaSocket (blocking) pattern boundaries that do not match record boundaries",
  "conn:receive, differential against LuaSocket (blocking) many small sends of a line-oriented protocol",
  "conn:receive, differential against LuaSocket (blocking) binary data with NUL bytes",
  "conn:receive, differential against LuaSocket (blocking) a line and a count longer than one record (16 KiB)",
  "conn:receive, differential against LuaSocket (blocking) a count longer than one record, data running out",
  "conn:receive, differential against LuaSocket (nonblocking) lines ending in CRLF",
  "conn:receive, differential against LuaSocket (nonblocking) bare CRs inside lines are dropped, LF ends the line",
  "conn:receive, differential against LuaSocket (nonblocking) empty lines",
  "conn:receive, differential against LuaSocket (nonblocking) a last line without LF, then close",
  "conn:receive, differential against LuaSocket (nonblocking) a last line without LF and no close times out with the partial",
  "conn:receive, differential against LuaSocket (nonblocking) default pattern: no argument, nil, nil with prefix",
  "conn:receive, differential against LuaSocket (nonblocking) patterns are matched by their first two characters",
  "conn:receive, differential against LuaSocket (nonblocking) *a with data, then close",
  "conn:receive, differential against LuaSocket (nonblocking) *a with no data before the close",
  "conn:receive, differential against LuaSocket (nonblocking) *a without close times out with everything so far",
  "conn:receive, differential against LuaSocket (nonblocking) *a after the stream already ended",
  "conn:receive, differential against LuaSocket (nonblocking) counts smaller, equal and larger than what is left, then close",
  "conn:receive, differential against LuaSocket (nonblocking) a count larger than everything, then close",
  "conn:receive, differential against LuaSocket (nonblocking) a count larger than what is available, no close",
  "conn:receive, differential against LuaSocket (nonblocking) a count equal to what is available, no close",
  "conn:receive, differential against LuaSocket (nonblocking) count 0 with and without data available",
  "conn:receive, differential against LuaSocket (nonblocking) count 0 at the end of a closed stream",
  "conn:receive, differential against LuaSocket (nonblocking) numeric strings as counts",
  "conn:receive, differential against LuaSocket (nonblocking) floats as counts are truncated",
  "conn:receive, differential against LuaSocket (nonblocking) a prefix with each pattern",
  "conn:receive, differential against LuaSocket (nonblocking) a prefix longer than (or as long as) the count",
  "conn:receive, differential against LuaSocket (nonblocking) numbers as prefixes",
  "conn:receive, differential against LuaSocket (nonblocking) an empty prefix is no prefix",
  "conn:receive, differential against LuaSocket (nonblocking) data split across many records, one byte per send",
  "conn:receive, differential against LuaSocket (nonblocking) pattern boundaries that do not match record boundaries",
  "conn:receive, differential against LuaSocket (nonblocking) many small sends of a line-oriented protocol",
  "conn:receive, differential against LuaSocket (nonblocking) binary data with NUL bytes",
  "conn:receive, differential against LuaSocket (nonblocking) a line and a count longer than one record (16 KiB)",
  "conn:receive, differential against LuaSocket (nonblocking) a count longer than one record, data running out",
  "conn:receive, differential against LuaSocket big payloads 1 MiB with *a (non-blocking)",
  "conn:receive, differential against LuaSocket big payloads 1 MiB (+100 bytes) in 65536-byte counts (non-blocking)",
  "conn:receive, differential against LuaSocket big payloads 100k short lines with *l (non-blocking)",
  "conn:send slicing, differential against LuaSocket matches for every (i, j) in {nil, -100, -3, -1, 0, 1, 2, len, len+1, 100}^2",
  "conn:send slicing, differential against LuaSocket matches with omitted indices",
  "conn:send slicing, differential against LuaSocket matches for floats, numeric strings, big indices, numbers as data and empty data",
  "argument errors, differential against LuaSocket receive",
  "argument errors, differential against LuaSocket send",
  "argument errors, differential against LuaSocket settimeout",
  "timeouts non-blocking receive without data returns nil, 'wantread', '' at once",
  "timeouts a blocked receive gives up after the timeout, with the partial",
  "timeouts a 4 MiB send to a peer that does not read returns nil, 'wantwrite', N; the peer gets exactly N bytes, and a retry from N+1 the rest",
  "close_notify and closed connections after the peer's close(), receive returns nil, 'closed', partial",
  "close_notify and closed connections a connection we closed answers like a closed LuaSocket object",
  "dirty() and want() dirty() is true while decrypted bytes are buffered, false once drained",
  "dirty() and want() want() says what the last operation waited for",
  "getstats / setstats count the bytes actually transferred",
  "getstats / setstats setstats sets them",
  "getstats / setstats count received bytes as LuaSocket does through partial reads",
  "getstats / setstats setstats with fractional values matches LuaSocket",
})

local W4 = { "deliberate", "LuaSec's close() returns nothing; sslua returns 1 like LuaSocket (doc/luasec-differences.md: Other deliberate differences)" }
add(W4, "spec/lifetime_spec.lua", {
  "connection methods in every state close when fresh",
  "connection methods in every state close when failed",
  "connection methods in every state close when closed",
})

local W5 = { "lacks", "LuaSec connections lack the LuaSocket methods (getpeername, getsockname, getfamily, getoption, setoption, shutdown, gettimeout) and setverifyhost" }
add(W5, "spec/lifetime_spec.lua", {
  "connection methods in every state shutdown when fresh",
  "connection methods in every state setoption when fresh",
  "connection methods in every state getsockname when fresh",
  "connection methods in every state getoption when fresh",
  "connection methods in every state getpeername when fresh",
  "connection methods in every state getfamily when fresh",
  "connection methods in every state gettimeout when fresh",
  "connection methods in every state setverifyhost when fresh",
  "connection methods in every state shutdown when failed",
  "connection methods in every state setoption when failed",
  "connection methods in every state getsockname when failed",
  "connection methods in every state getoption when failed",
  "connection methods in every state getpeername when failed",
  "connection methods in every state getfamily when failed",
  "connection methods in every state gettimeout when failed",
  "connection methods in every state shutdown when closed",
})

local W6 = { "fault", "LuaSec answers methods on fresh/failed connections with nothing or bare false; sslua answers nil, 'closed' in every state (doc/luasec-differences.md: Answers in every state)" }
add(W6, "spec/lifetime_spec.lua", {
  "connection methods in every state setdane when fresh",
  "connection methods in every state exportkeyingmaterial when fresh",
  "connection methods in every state sni when fresh",
  "connection methods in every state settlsa when fresh",
  "connection methods in every state getpeerfinished when fresh",
  "connection methods in every state setdane when failed",
  "connection methods in every state exportkeyingmaterial when failed",
  "connection methods in every state sni when failed",
  "connection methods in every state settlsa when failed",
  "connection methods in every state getpeerfinished when failed",
})

local RETRY_TRUE = { "fault", "LuaSec 1.2.0: dohandshake() after a failed handshake returns true (OpenSSL's error is gone and errno 0 reads as success); sslua repeats the original error (doc/luasec-differences.md: Retrying a failed handshake)", upstream = "1.2.0" }
local RETRY_SYSTEM = { "fault", "LuaSec 1.3.2: dohandshake() after a failed handshake returns false, 'System error' on OpenSSL 3.0; sslua repeats the original error (doc/luasec-differences.md: Retrying a failed handshake)", upstream = "1.3.2" }
for _, why in ipairs { RETRY_TRUE, RETRY_SYSTEM } do
  add(why, "spec/lifetime_spec.lua", {
    "connection methods in every state dohandshake when failed",
    "connection methods in every state repeats the same handshake error when retried after a failure",
  })
end

local LOCAL_CERT = { "lacks", "LuaSec 1.2.0 connections have no getlocalcertificate()/getlocalchain() (they arrived in 1.3)", upstream = "1.2.0" }
for _, state in ipairs { "fresh", "failed", "closed", "connected" } do
  add(LOCAL_CERT, "spec/lifetime_spec.lua", {
    "connection methods in every state getlocalcertificate when " .. state,
    "connection methods in every state getlocalchain when " .. state,
  })
end
add({ "deliberate", "LuaSec 1.3.2's getlocalcertificate() on a connection without a certificate of its own returns a lone nil; sslua nil, 'no certificate at index 1' (doc/luasec-differences.md: Other deliberate differences)", upstream = "1.3.2" },
  "spec/lifetime_spec.lua", { "connection methods in every state getlocalcertificate when connected" })

local W8 = { "deliberate", "ssl._IMPLEMENTATION = 'sslua' marks our module; LuaSec has no such field" }
add(W8, "spec/module_spec.lua", {
  "require 'ssl' is sslua, with LuaSec's API level first in _VERSION",
})

local W8b = { "lacks", "LuaSec's ssl.lua does not check which C library it loaded: beside another module's or release's ssl.so it loads, and fails later or not at all" }
add(W8b, "spec/module_spec.lua", {
  "require 'ssl' refuses another module's C library first on package.cpath (LuaSec's ssl.so), in one line",
  "require 'ssl' refuses sslua's C library of another release, in one line",
})

local W9 = { "lacks", "module surface: LuaSec lacks ssl.x509 under ssl, ssl.loadcertificate and the ssl.config fields sslua adds (openssl; curves as exactly the accepted groups, which the test asks without protocol, where LuaSec raises)" }
add(W9, "spec/module_spec.lua", {
  "require 'ssl' exposes LuaSec's submodules under their names",
  "require 'ssl' loadcertificate is ssl.x509.load: PEM in, certificate out; garbage gives a message",
  "require 'ssl' ssl.config reports the OpenSSL it runs on",
  "require 'ssl' ssl.config.curves lists exactly names the curve parameter accepts",
})
add({ "lacks", "LuaSec 1.2.0's ssl.config.capabilities has no psk (PSK arrived in 1.3)", upstream = "1.2.0" },
  "spec/module_spec.lua", { "require 'ssl' ssl.config.capabilities has LuaSec's shape" })

local W10 = { "lacks", "ssl.config.option_effects is an sslua addition (LuaSec does not say which options do anything)" }
add(W10, "spec/options_spec.lua", {
  "option names reports the effect of all",
  "option names reports the effect of allow_client_renegotiation",
  "option names reports the effect of allow_no_dhe_kex",
  "option names reports the effect of allow_unsafe_legacy_renegotiation",
  "option names reports the effect of cipher_server_preference",
  "option names reports the effect of cisco_anyconnect",
  "option names reports the effect of cleanse_plaintext",
  "option names reports the effect of cookie_exchange",
  "option names reports the effect of cryptopro_tlsext_bug",
  "option names reports the effect of disable_tlsext_ca_names",
  "option names reports the effect of dont_insert_empty_fragments",
  "option names reports the effect of enable_ktls",
  "option names reports the effect of enable_middlebox_compat",
  "option names reports the effect of ephemeral_rsa",
  "option names reports the effect of ignore_unexpected_eof",
  "option names reports the effect of legacy_server_connect",
  "option names reports the effect of microsoft_big_sslv3_buffer",
  "option names reports the effect of microsoft_sess_id_bug",
  "option names reports the effect of msie_sslv2_rsa_padding",
  "option names reports the effect of netscape_ca_dn_bug",
  "option names reports the effect of netscape_challenge_bug",
  "option names reports the effect of netscape_demo_cipher_change_bug",
  "option names reports the effect of netscape_reuse_cipher_change_bug",
  "option names reports the effect of no_anti_replay",
  "option names reports the effect of no_compression",
  "option names reports the effect of no_dtls_mask",
  "option names reports the effect of no_dtlsv1",
  "option names reports the effect of no_dtlsv1_2",
  "option names reports the effect of no_encrypt_then_mac",
  "option names reports the effect of no_extended_master_secret",
  "option names reports the effect of no_query_mtu",
  "option names reports the effect of no_renegotiation",
  "option names reports the effect of no_session_resumption_on_renegotiation",
  "option names reports the effect of no_ssl_mask",
  "option names reports the effect of no_sslv2",
  "option names reports the effect of no_sslv3",
  "option names reports the effect of no_ticket",
  "option names reports the effect of no_tlsv1",
  "option names reports the effect of no_tlsv1_1",
  "option names reports the effect of no_tlsv1_2",
  "option names reports the effect of no_tlsv1_3",
  "option names reports the effect of pkcs1_check_1",
  "option names reports the effect of pkcs1_check_2",
  "option names reports the effect of prioritize_chacha",
  "option names reports the effect of safari_ecdhe_ecdsa_bug",
  "option names reports the effect of single_dh_use",
  "option names reports the effect of single_ecdh_use",
  "option names reports the effect of ssleay_080_client_dh_bug",
  "option names reports the effect of sslref2_reuse_cert_type_bug",
  "option names reports the effect of tls_block_padding_bug",
  "option names reports the effect of tls_d5_bug",
  "option names reports the effect of tls_rollback_bug",
  "option names reports the effect of tlsext_padding",
})

local W11 = { "fault", "LuaSec words a number as options as an unknown option name ('invalid option (7)'); sslua says what type the options parameter needs" }
add(W11, "spec/options_spec.lua", {
  "option names rejects unknown names, wrong case and non-strings",
})

add({ "lacks", "ssl.context.getoptions is an sslua addition" }, "spec/options_spec.lua", {
  "context.getoptions lists the names set, and only names whose bits this OpenSSL has",
  "context.getoptions answers false, 'closed' on a closed context",
})

local W12 = { "fault", "LuaSec maps no_dtlsv1_2 to SSL_OP_NO_DTLSv1_2, the same bit as NO_TLSv1_2: TLS 1.2 is disabled (doc/luasec-differences.md: Option names sharing bits)" }
add(W12, "spec/options_spec.lua", {
  "version options seen by a peer no_dtlsv1_2 does not disable TLS 1.2 (LuaSec's shared-bit fault)",
})

add({ "deliberate", "LuaSec raises for a missing mode and accepts an unknown one (ssl.wrap fails later); sslua's newcontext returns nil, 'invalid mode (X)' (doc/luasec-differences.md: Other deliberate differences)" },
  "spec/params_spec.lua", { "param mode rejects unknown, missing and non-string modes at newcontext" })
add({ "deliberate", "LuaSec's ssl.config.protocols omits any and sslv23, though newcontext accepts them; sslua lists every name protocol accepts (doc/luasec-differences.md: Other deliberate differences)" },
  "spec/params_spec.lua", { "param protocol accepts any", "param protocol accepts sslv23" })
add({ "deliberate", "ssl.newcontext without protocol raises in LuaSec ('string expected, got nil'); sslua defaults to 'any' (doc/luasec-differences.md: Other deliberate differences)" },
  "spec/params_spec.lua", { "param protocol defaults to any when missing" })
add({ "lacks", "ssl.config.verify (the verify flags this module knows) is an sslua addition" }, "spec/params_spec.lua", {
  "param verify accepts none alone and in a list",
  "param verify accepts peer alone and in a list",
  "param verify accepts client_once alone and in a list",
  "param verify accepts fail_if_no_peer_cert alone and in a list",
})
local W13 = { "fault", "LuaSec's parameter errors: it raises for values of the wrong type, accepts some bad values silently (a missing capath, non-table certificates entries, a bad depth), and words load failures from an error queue it never clears ('(null)', 'system lib', an earlier failure's reason); sslua returns nil, message with the reason of this failure (doc/luasec-differences.md: Parameter errors)" }
add(W13, "spec/params_spec.lua", {
  "newcontext rejects a parameter table that is not a table",
  "param protocol rejects a non-string protocol",
  "params key and certificate say why a key file cannot be loaded, and name it in the error object",
  "params key and certificate say why a certificate file cannot be loaded",
  "params key and certificate reject non-string values",
  "param password never prompts: a missing password is an error",
  "param password turns an error inside the callback into a message",
  "param certificates rejects entries that are not tables and a list that is not a table",
  "params cafile and capath name a missing cafile",
  "params cafile and capath reject a cafile without certificates",
  "params cafile and capath reject a missing capath, which LuaSec accepted silently",
  "params cafile and capath reject a capath that is a file",
  "params cafile and capath reject non-string values",
  "params ciphers and ciphersuites reject strings that match nothing",
  "params ciphers and ciphersuites reject non-string values",
  "param verify rejects a value that is neither string nor list",
  "param depth rejects negative, fractional and non-number depths",
})

-- PSK: LuaSec 1.2.0 has none; 1.3.2 has it, with faults of its own.
local W14 = { "lacks", "LuaSec 1.2.0 has no PSK (the psk parameter and context.setclientpskcb/setserverpskcb/setpskhint arrived in 1.3): it ignores psk, so a PSK-only handshake fails ('no ciphers available', 'unexpected message', 'unsupported protocol')", upstream = "1.2.0" }
add(W14, "spec/psk_spec.lua", {
  "psk on TLSv1.2 agrees on a key between our client and our server, without certificates",
  "psk on TLSv1.2 an unknown identity (server returns nil) fails the handshake",
  "psk on TLSv1.2 a wrong key fails the handshake",
  "psk on TLSv1.2 identities and keys up to the maxima given work",
  "psk on TLSv1.2 a client function that raises fails the handshake cleanly",
  "psk on TLSv1.2 a client function that raises a table fails the handshake cleanly",
  "psk on TLSv1.2 a client function that returns numbers fails the handshake cleanly",
  "psk on TLSv1.2 a client function that returns no key fails the handshake cleanly",
  "psk on TLSv1.2 a client function that returns a too long identity fails the handshake cleanly",
  "psk on TLSv1.2 a client function that returns an identity with a zero byte fails the handshake cleanly",
  "psk on TLSv1.2 a client function that returns a too long key fails the handshake cleanly",
  "psk on TLSv1.2 a client function that returns an empty key fails the handshake cleanly",
  "psk on TLSv1.2 a client function that yields fails the handshake cleanly",
  "psk on TLSv1.2 a client function returning nil offers no PSK",
  "psk on TLSv1.2 a server function that raises fails the handshake cleanly",
  "psk on TLSv1.2 a server function that returns a number fails the handshake cleanly",
  "psk on TLSv1.2 a server function that returns a too long key fails the handshake cleanly",
  "psk on TLSv1.2 a server function that yields fails the handshake cleanly",
  "psk on TLSv1.2 an empty key from the server means an unknown identity",
  "psk on TLSv1.2 fails cleanly when the client's context was closed before the handshake",
  "psk on TLSv1.2 fails cleanly when the server's context was closed before the handshake",
  "psk on TLSv1.2 runs the functions on the coroutine driving the handshake",
  "psk on TLSv1.3 agrees on a key between our client and our server, without certificates",
  "psk on TLSv1.3 an unknown identity (server returns nil) fails the handshake",
  "psk on TLSv1.3 a wrong key fails the handshake",
  "psk on TLSv1.3 identities and keys up to the maxima given work",
  "psk on TLSv1.3 a client function that raises fails the handshake cleanly",
  "psk on TLSv1.3 a client function that raises a table fails the handshake cleanly",
  "psk on TLSv1.3 a client function that returns numbers fails the handshake cleanly",
  "psk on TLSv1.3 a client function that returns no key fails the handshake cleanly",
  "psk on TLSv1.3 a client function that returns a too long identity fails the handshake cleanly",
  "psk on TLSv1.3 a client function that returns an identity with a zero byte fails the handshake cleanly",
  "psk on TLSv1.3 a client function that returns a too long key fails the handshake cleanly",
  "psk on TLSv1.3 a client function that returns an empty key fails the handshake cleanly",
  "psk on TLSv1.3 a client function that yields fails the handshake cleanly",
  "psk on TLSv1.3 a client function returning nil offers no PSK",
  "psk on TLSv1.3 a server function that raises fails the handshake cleanly",
  "psk on TLSv1.3 a server function that returns a number fails the handshake cleanly",
  "psk on TLSv1.3 a server function that returns a too long key fails the handshake cleanly",
  "psk on TLSv1.3 a server function that yields fails the handshake cleanly",
  "psk on TLSv1.3 an empty key from the server means an unknown identity",
  "psk on TLSv1.3 fails cleanly when the client's context was closed before the handshake",
  "psk on TLSv1.3 fails cleanly when the server's context was closed before the handshake",
  "psk on TLSv1.3 runs the functions on the coroutine driving the handshake",
  "psk TLS 1.2: the server's identity hint reaches the client; TLS 1.3 has none",
  "psk bad psk parameters: 'invalid PSK configuration', from Lua and from C",
  "psk a bad identity hint is reported",
  "psk the PSK functions on a closed context: false, 'closed'",
  "psk with the openssl tools TLSv1.2: our client against s_server -psk -nocert",
  "psk with the openssl tools TLSv1.2: s_server and our client's wrong identity",
  "psk with the openssl tools TLSv1.2: s_client -psk against our server",
  "psk with the openssl tools TLSv1.3: our client against s_server -psk -nocert",
  "psk with the openssl tools TLSv1.3: s_client -psk against our server",
})

local function both_versions(names)
  local t = {}
  for _, protocol in ipairs { "TLSv1.2", "TLSv1.3" } do
    for _, n in ipairs(names) do t[#t + 1] = ("psk on %s %s"):format(protocol, n) end
  end
  return t
end
add({ "fault", "LuaSec 1.3.2 tells the client function 255 as the longest identity and refuses a 256-byte one, one byte short of OpenSSL's limit (OpenSSL's 257-byte buffer already keeps the terminating zero); sslua passes OpenSSL's 256", upstream = "1.3.2" },
  "spec/psk_spec.lua", both_versions {
  "agrees on a key between our client and our server, without certificates",
  "identities and keys up to the maxima given work",
})
add({ "fault", "LuaSec 1.3.2 calls the PSK functions unprotected inside OpenSSL's handshake: an error or a yield in one escapes through OpenSSL out of dohandshake; sslua fails the handshake with 'callback failed (PSK callback: <error>)' (doc/luasec-differences.md: Lua errors escaping through OpenSSL)", upstream = "1.3.2" },
  "spec/psk_spec.lua", both_versions {
  "a client function that raises fails the handshake cleanly",
  "a client function that raises a table fails the handshake cleanly",
  "a client function that yields fails the handshake cleanly",
  "a server function that raises fails the handshake cleanly",
  "a server function that yields fails the handshake cleanly",
})
add({ "fault", "LuaSec 1.3.2 does not check what the PSK functions return: numbers are taken as strings, an identity is cut at a zero byte, and an identity or key that does not fit (or a missing key) silently means no PSK, so the handshake fails later for another reason ('psk identity not found', 'cipher operation failed', an alert) instead of with the function's mistake ('callback failed (PSK callback: ...)')", upstream = "1.3.2" },
  "spec/psk_spec.lua", both_versions {
  "a client function that returns numbers fails the handshake cleanly",
  "a client function that returns no key fails the handshake cleanly",
  "a client function that returns a too long identity fails the handshake cleanly",
  "a client function that returns an identity with a zero byte fails the handshake cleanly",
  "a client function that returns a too long key fails the handshake cleanly",
  "a client function that returns an empty key fails the handshake cleanly",
  "a server function that returns a number fails the handshake cleanly",
  "a server function that returns a too long key fails the handshake cleanly",
})
add({ "fault", "LuaSec 1.3.2 finds the PSK function in a registry table under the context, which the context's __close/__gc empties: the handshake then calls nil and 'attempt to call a nil value' escapes from dohandshake; sslua fails the handshake with 'callback failed (PSK callback: no PSK function (context closed?))'", upstream = "1.3.2" },
  "spec/psk_spec.lua", both_versions {
  "fails cleanly when the client's context was closed before the handshake",
  "fails cleanly when the server's context was closed before the handshake",
})
add({ "fault", "LuaSec 1.3.2 sets no session id context on a server that verifies clients; OpenSSL then refuses the TLS 1.3 PSK handshake ('session id context uninitialized'). sslua sets one on every server context", upstream = "1.3.2" },
  "spec/psk_spec.lua", { "psk on TLSv1.3 a verifying server and a verifying client still agree on the PSK" })
add({ "fault", "LuaSec 1.3.2's context.setclientpskcb/setserverpskcb take anything (a string, nothing) and answer true; sslua answers false, 'invalid PSK configuration' (newcontext's own checks agree)", upstream = "1.3.2" },
  "spec/psk_spec.lua", { "psk bad psk parameters: 'invalid PSK configuration', from Lua and from C" })
add({ "fault", "LuaSec 1.3.2's context.setpskhint answers a hint OpenSSL refuses with a bare false (no reason); sslua with false, 'invalid PSK identity hint (<reason>)'", upstream = "1.3.2" },
  "spec/psk_spec.lua", { "psk a bad identity hint is reported" })

local W15 = { "fault", "LuaSec's DANE: setdane/settlsa return bare false (no message) or raise, and accept calls in any state" }
add(W15, "spec/dane_spec.lua", {
  "dane dane parameter: true, a flag list, or 'invalid DANE flag (X)'",
  "dane setdane and settlsa need DANE on the context",
  "dane settlsa reports unusable records and bad arguments",
  "dane setdane and settlsa in every connection state handshake in progress: 'handshake already started'",
  "dane setdane and settlsa in every connection state connected: 'handshake already started'",
  "dane setdane and settlsa in every connection state failed: 'handshake already started'",
})

local W16 = { "fault", "LuaSec's ALPN parameter: a string server list is 'invalid ALPN parameter', names are not checked (accepted, or 'error setting ALPN ((null))'), a number in a list gives a lone nil, some tables raise ('string expected, got table') and a function is taken on a client context (doc/luasec-differences.md: ALPN)" }
add(W16, "spec/alpn_spec.lua", {
  "ALPN negotiation (oracle) client none, server 'h2' (string)",
  "ALPN negotiation (oracle) client 'h2' (string), server 'h2' (string)",
  "ALPN negotiation (oracle) client {h2}, server 'h2' (string)",
  "ALPN negotiation (oracle) client {http/1.1,h2}, server 'h2' (string)",
  "ALPN negotiation (oracle) client {spdy/3,foo}, server 'h2' (string)",
  "ALPN negotiation (oracle) client {x,http/1.1}, server 'h2' (string)",
  "ALPN negotiation (oracle) the last of setalpn / setalpncb decides",
  "ALPN negotiation (oracle) a context whose mode is not set yet is ready for either role",
  "ALPN parameter errors client: an empty string -> \"invalid ALPN name (empty string)\"",
  "ALPN parameter errors client: an empty name in a list -> \"invalid ALPN name (empty string)\"",
  "ALPN parameter errors client: a 256-byte name -> \"invalid ALPN name (length > 255)\"",
  "ALPN parameter errors client: a 256-byte name in a list -> \"invalid ALPN name (length > 255)\"",
  "ALPN parameter errors client: an empty list -> \"invalid ALPN list (empty)\"",
  "ALPN parameter errors client: a table with no array part -> \"invalid ALPN list (empty)\"",
  "ALPN parameter errors client: a number element -> \"invalid ALPN parameter\"",
  "ALPN parameter errors client: a table element -> \"invalid ALPN parameter\"",
  "ALPN parameter errors client: the first bad name wins (empty, then number) -> \"invalid ALPN name (empty string)\"",
  "ALPN parameter errors client: the first bad name wins (number, then empty) -> \"invalid ALPN parameter\"",
  "ALPN parameter errors client: the first bad name wins (long, then empty) -> \"invalid ALPN name (length > 255)\"",
  "ALPN parameter errors server: an empty string -> \"invalid ALPN name (empty string)\"",
  "ALPN parameter errors server: an empty name in a list -> \"invalid ALPN name (empty string)\"",
  "ALPN parameter errors server: a 256-byte name -> \"invalid ALPN name (length > 255)\"",
  "ALPN parameter errors server: a 256-byte name in a list -> \"invalid ALPN name (length > 255)\"",
  "ALPN parameter errors server: an empty list -> \"invalid ALPN list (empty)\"",
  "ALPN parameter errors server: a table with no array part -> \"invalid ALPN list (empty)\"",
  "ALPN parameter errors server: a number element -> \"invalid ALPN parameter\"",
  "ALPN parameter errors server: a table element -> \"invalid ALPN parameter\"",
  "ALPN parameter errors server: the first bad name wins (empty, then number) -> \"invalid ALPN name (empty string)\"",
  "ALPN parameter errors server: the first bad name wins (number, then empty) -> \"invalid ALPN parameter\"",
  "ALPN parameter errors server: the first bad name wins (long, then empty) -> \"invalid ALPN name (length > 255)\"",
  "ALPN parameter errors the whole list must fit the extension (65533 bytes)",
  "ALPN parameter errors a function is a server's parameter only",
})

add({ "fault", "LuaSec calls the ALPN function unprotected inside OpenSSL's handshake: a yield in it, even on a coroutine, fails as 'attempt to yield across a C-call boundary' and escapes through OpenSSL; sslua selects nothing and goes on" },
  "spec/alpn_spec.lua", { "ALPN negotiation (oracle) a callback that yields inside a coroutine selects nothing; the handshake goes on" })
add({ "fault", "LuaSec finds the ALPN function in a registry table under the context, which the context's __close empties: the handshake then calls nil and 'attempt to call a nil value' escapes from dohandshake; sslua selects nothing" },
  "spec/alpn_spec.lua", { "ALPN negotiation (oracle) a server context closed before the handshake selects nothing and does not crash" })
local W17 = { "fault", "LuaSec calls the ALPN function unprotected inside OpenSSL's handshake: an error or a yield in it escapes through OpenSSL out of dohandshake; sslua runs it protected and selects nothing (doc/luasec-differences.md: Lua errors escaping through OpenSSL)" }
add(W17, "spec/alpn_spec.lua", {
  "ALPN negotiation (oracle) client 'h2' (string), server callback raises",
  "ALPN negotiation (oracle) client 'h2' (string), server callback yields (not allowed)",
  "ALPN negotiation (oracle) client {h2}, server callback raises",
  "ALPN negotiation (oracle) client {h2}, server callback yields (not allowed)",
  "ALPN negotiation (oracle) client {http/1.1,h2}, server callback raises",
  "ALPN negotiation (oracle) client {http/1.1,h2}, server callback yields (not allowed)",
  "ALPN negotiation (oracle) client {spdy/3,foo}, server callback raises",
  "ALPN negotiation (oracle) client {spdy/3,foo}, server callback yields (not allowed)",
  "ALPN negotiation (oracle) client {x,http/1.1}, server callback raises",
  "ALPN negotiation (oracle) client {x,http/1.1}, server callback yields (not allowed)",
  "ALPN negotiation (oracle) TLS 1.2: client {http/1.1,h2}, server callback raises",
})

local W18 = { "deliberate", "LuaSec's sni() returns nothing (the tests assert sslua's true) and raises for bad arguments; sslua returns true or nil, message (doc/luasec-differences.md: Other deliberate differences)" }
add(W18, "spec/sni_spec.lua", {
  "SNI tlsv1_2 a mapped name selects the mapped context's certificate",
  "SNI tlsv1_2 names match case-insensitively, both ways",
  "SNI tlsv1_2 an unknown name, not strict, keeps the default context",
  "SNI tlsv1_2 an unknown name, strict, ends the handshake with unrecognized_name",
  "SNI tlsv1_2 a server that refused a name still reports it (failed state)",
  "SNI tlsv1_2 no SNI at all keeps the default context, strict or not",
  "SNI tlsv1_2 a subdomain or a prefix of a mapped name is not that name",
  "SNI tlsv1_3 a mapped name selects the mapped context's certificate",
  "SNI tlsv1_3 names match case-insensitively, both ways",
  "SNI tlsv1_3 an unknown name, not strict, keeps the default context",
  "SNI tlsv1_3 an unknown name, strict, ends the handshake with unrecognized_name",
  "SNI tlsv1_3 a server that refused a name still reports it (failed state)",
  "SNI tlsv1_3 no SNI at all keeps the default context, strict or not",
  "SNI tlsv1_3 a subdomain or a prefix of a mapped name is not that name",
  "SNI several names map to several contexts",
  "SNI the map is copied: later changes to the caller's table do not matter",
  "SNI the map keeps its contexts alive when nothing else does",
  "SNI a second sni() replaces the map and the strict flag",
  "SNI a mapped context closed after sni() counts as unknown",
  "SNI other connections of the same context are not affected by one's map",
  "SNI a server without a map still reports the name the client sent",
  "SNI the mapped context's verification applies (client certificate required there)",
  "SNI the mapped context's ALPN list decides after the switch",
  "SNI the mapped context's ciphers decide after the switch (TLS 1.2)",
  "SNI argument errors client: a name must be a non-empty string of at most 255 bytes without zero bytes",
  "SNI argument errors server: a map of host names to live server contexts",
  "SNI argument errors a refused map leaves the previous one in place",
  "SNI argument errors sni() once the handshake has started answers nil, 'handshake already started'",
  "against openssl SNI our client names the host; s_server switches to its second certificate",
  "against openssl SNI our client, unknown name, s_server -servername_fatal: unrecognized name",
  "against openssl SNI s_client -servername, our server with a map",
  "against openssl SNI s_client -servername unknown, our strict server: unrecognized name",
  "against openssl SNI s_client -noservername, our strict server: default certificate",
})

local W19 = { "fault", "LuaSec's sni()/getsniname()/getalpn() return nothing (or crash after close) instead of true / nil, message" }
add(W19, "spec/sni_spec.lua", {
  "sni, getsniname and getalpn in every state server when fresh",
  "sni, getsniname and getalpn in every state client when fresh",
  "sni, getsniname and getalpn in every state server when connected",
  "sni, getsniname and getalpn in every state client when connected",
  "sni, getsniname and getalpn in every state server when failed",
  "sni, getsniname and getalpn in every state client when failed",
  "sni, getsniname and getalpn in every state server when closed",
  "sni, getsniname and getalpn in every state client when closed",
})

local W20 = { "fault", "LuaSec with crl_check_chain and no CRL at all accepts the peer" }
add(W20, "spec/verifyext_spec.lua", {
  "verifyext no CRL at all, crl_check_chain",
})

local W21 = { "fault", "LuaSec raises for unknown verifyext names and on closed contexts instead of nil/false, message" }
add(W21, "spec/verifyext_spec.lua", {
  "verifyext ctx:setverifyext rejects unknown flags with LuaSec's message",
  "verifyext ctx:setverifyext answers false, closed on a closed context",
  "verifyext newcontext rejects unknown verifyext names and wrong types",
})

local W22 = { "lacks", "LuaSec's ssl.x509.load() reads PEM only; DER and the format argument are sslua additions" }
add(W22, "spec/x509_spec.lua", {
  "ssl.x509 ca.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 root-ca.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 int-ca.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 server-rsa.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 server-ecdsa.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 server-ed25519.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 client-rsa.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 expired.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 notyet.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 untrusted.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 rogue-ca.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 rich.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 ed-self.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 bmp.pem loads the same certificate from DER, with and without a format",
  "ssl.x509 cnonly.pem loads the same certificate from DER, with and without a format",
})

local W23 = { "deliberate", "LuaSec's x509:digest() knows sha1/sha256/sha512 only; sslua takes any OpenSSL digest (doc/luasec-differences.md: Other deliberate differences)" }
add(W23, "spec/x509_spec.lua", {
  "ssl.x509 ca.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 root-ca.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 int-ca.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 server-rsa.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 server-ecdsa.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 server-ed25519.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 client-rsa.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 expired.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 notyet.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 untrusted.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 rogue-ca.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 rich.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 ed-self.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 bmp.pem digest() matches -fingerprint for several algorithms",
  "ssl.x509 cnonly.pem digest() matches -fingerprint for several algorithms",
})

local W24 = { "fault", "LuaSec's validat() requires an integer time and raises for a float (os.time() + 0.5)" }
add(W24, "spec/x509_spec.lua", {
  "ssl.x509 ca.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 root-ca.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 int-ca.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 server-rsa.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 server-ecdsa.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 server-ed25519.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 client-rsa.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 expired.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 notyet.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 untrusted.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 rogue-ca.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 rich.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 ed-self.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 bmp.pem validat() is true from notBefore through notAfter inclusive",
  "ssl.x509 cnonly.pem validat() is true from notBefore through notAfter inclusive",
})

local W25 = { "lacks", "LuaSec's extensions() decodes subjectAltName/issuerAltName only; sslua decodes the other X.509v3 extensions" }
add(W25, "spec/x509_spec.lua", {
  "ssl.x509 ca.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 ca.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 ca.pem key identifiers match the CLI",
  "ssl.x509 root-ca.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 root-ca.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 root-ca.pem key identifiers match the CLI",
  "ssl.x509 int-ca.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 int-ca.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 int-ca.pem key identifiers match the CLI",
  "ssl.x509 server-rsa.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 server-rsa.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 server-rsa.pem key identifiers match the CLI",
  "ssl.x509 server-ecdsa.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 server-ecdsa.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 server-ecdsa.pem key identifiers match the CLI",
  "ssl.x509 server-ed25519.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 server-ed25519.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 server-ed25519.pem key identifiers match the CLI",
  "ssl.x509 client-rsa.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 client-rsa.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 client-rsa.pem key identifiers match the CLI",
  "ssl.x509 expired.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 expired.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 expired.pem key identifiers match the CLI",
  "ssl.x509 notyet.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 notyet.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 notyet.pem key identifiers match the CLI",
  "ssl.x509 untrusted.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 untrusted.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 untrusted.pem key identifiers match the CLI",
  "ssl.x509 rogue-ca.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 rogue-ca.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 rogue-ca.pem key identifiers match the CLI",
  "ssl.x509 rich.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 rich.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 rich.pem key identifiers match the CLI",
  "ssl.x509 ed-self.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 ed-self.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 ed-self.pem key identifiers match the CLI",
  "ssl.x509 bmp.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 bmp.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 bmp.pem key identifiers match the CLI",
  "ssl.x509 cnonly.pem extensions() has an entry named like each extension the CLI lists",
  "ssl.x509 cnonly.pem basicConstraints, keyUsage and extendedKeyUsage match the CLI",
  "ssl.x509 cnonly.pem key identifiers match the CLI",
  "ssl.x509 extensions beyond LuaSec (rich.pem) issuerAltName has the subjectAltName shape",
  "ssl.x509 extensions beyond LuaSec (rich.pem) CRL distribution points are the CLI's URIs",
  "ssl.x509 extensions beyond LuaSec (rich.pem) authorityInfoAccess splits ocsp and caIssuers",
  "ssl.x509 extensions beyond LuaSec (rich.pem) authorityKeyIdentifier carries the issuer name",
  "ssl.x509 extensions beyond LuaSec (rich.pem) basicConstraints of a leaf has no pathlen",
})

local W26 = { "lacks", "x509:checkhost()/checkip() are sslua additions (LuaSec has no hostname checks, issues 161/165)" }
add(W26, "spec/x509_spec.lua", {
  "ssl.x509 ca.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 root-ca.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 int-ca.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 server-rsa.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 server-ecdsa.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 server-ed25519.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 client-rsa.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 expired.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 notyet.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 untrusted.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 rogue-ca.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 rich.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 ed-self.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 bmp.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 cnonly.pem checkhost() and checkip() agree with -checkhost and -checkip",
  "ssl.x509 checkhost() flags no_wildcards and no_partial_wildcards",
  "ssl.x509 checkhost() flags never_check_subject ignores the CN of a certificate without DNS names",
  "ssl.x509 checkhost() flags single_label_subdomains limits a leading-dot name to direct children",
  "ssl.x509 checkhost() flags rejects unknown flags and malformed input with nil, message",
  "ssl.x509 load() never reports an error left over from an earlier call",
})

local W27 = { "fault", "LuaSec's pubkey() reports Ed25519 keys as type 'Unknown'" }
add(W27, "spec/x509_spec.lua", {
  "ssl.x509 server-ed25519.pem pubkey() gives the CLI's public key, type and bits",
  "ssl.x509 ed-self.pem pubkey() gives the CLI's public key, type and bits",
})

local W28 = { "fault", "LuaSec x509 objects: results or errors differ from the CLI / from nil, message (see the spec's message)" }
add(W28, "spec/x509_spec.lua", {
  "ssl.x509 issued() int-ca.pem -> server-rsa.pem via {} agrees with openssl verify",
  "ssl.x509 load() reports garbage, empty, damaged PEM and truncated DER with OpenSSL's reason",
  "ssl.x509 load() honours an explicit format and rejects an unknown one",
  "ssl.x509 load() coerces numbers and raises for other types",
  "ssl.x509 the object is safe after __close and __gc: methods return nil, 'closed'",
  "ssl.x509 issued by itself is false for a leaf, though a partial chain would accept it as its own anchor",
})

local W29 = { "deliberate", "certificates never compare equal in LuaSec; sslua's == compares the certificates (doc/luasec-differences.md: Other deliberate differences)" }
add(W29, "spec/x509_spec.lua", {
  "ssl.x509 the object compares equal to another load of the same certificate",
})

local X1 = { "lacks", "credentials from memory (PEM/DER strings, x509 objects) and PKCS#12 are sslua additions; LuaSec reads key, certificate and cafile from files only" }
add(X1, "spec/credentials_spec.lua", {
  "credentials from memory PEM strings for key, certificate chain and cafile",
  "credentials from memory DER strings for key, certificate and cafile",
  "credentials from memory x509 objects for certificate and cafile",
  "credentials from memory encrypted keys with a password string or function",
  "credentials from memory errors keep LuaSec's template, with the reason alone in the parentheses",
  "credentials from memory a path stays a path: a missing file keeps the file error",
  "credentials from memory a server with an in-memory identity, against openssl s_client",
  "pkcs12 loads key, certificate and chain from a file or from bytes",
  "pkcs12 reports what went wrong",
  "pkcs12 a client certificate from PKCS#12, against openssl s_server -Verify",
  "pkcs12 context functions on a closed context say closed",
})

local X2 = { "fault", "LuaSec's curveslist goes through its own table of elliptic curves: X25519 is 'not supported' and a table raises" }
add(X2, "spec/groups_spec.lua", {
  "curveslist a non-string value is reported, not raised",
  "curveslist no group in common fails the handshake on both sides",
})

local X3 = { "lacks", "verifyhost and verifycallback are sslua additions: LuaSec checks no host name and never calls a verify callback (and these specs make contexts without protocol, which LuaSec raises for first)" }
add(X3, "spec/hostname_spec.lua", {
  "verifyhost accepts a name the certificate carries, in DNS or IP SANs",
  "verifyhost fails the handshake on another name, saying which",
  "verifyhost matches IP literals against IP SANs only",
  "verifyhost refuses partial wildcards and names beside the certificate's",
  "verifyhost leaves every other verify error to OpenSSL's words",
  "verifyhost under verify = 'none' only shows in getpeerverification()",
  "verifyhost is recorded per depth by lsec_continue",
  "verifyhost conn:setverifyhost overrides the context, and false removes the check",
  "verifyhost checks a name other than the SNI sent",
  "verifyhost rejects bad values with nil, message and never raises",
  "verifyhost conn:setverifyhost answers in every state",
  "verifyhost ssl.context.setverifyhost on a closed context",
  "verifyhost against openssl s_server with a certificate for another host",
})
add(X3, "spec/verifycallback_spec.lua", {
  "verifycallback sees each certificate with ok, depth and OpenSSL's error",
  "verifycallback can accept what OpenSSL rejects; getpeerverification keeps OpenSSL's error",
  "verifycallback false rejects: OpenSSL's application verification failure, where it happened",
  "verifycallback an error or a non-boolean rejects, with the reason in the message",
  "verifycallback works with lsec_continue: its rejections are recorded and the handshake goes on",
  "verifycallback is refused when not a function",
  "verifycallback runs on a server for client certificates, against openssl s_client",
})

local X4 = { "lacks", "cafile = 'system' (OpenSSL's default store) is an sslua addition: LuaSec takes it as a file name" }
add(X4, "spec/system_ca_spec.lua", {
  "cafile = 'system' loads the system store, which does not hold the test root",
  "cafile = 'system' is OpenSSL's default store: SSL_CERT_FILE points it elsewhere",
  "cafile = 'system' is a path when a file of that name exists",
})

local X5 = { "lacks", "ssl.secureclient() is an sslua addition" }
add(X5, "spec/secureclient_spec.lua", {
  "ssl.secureclient returns fresh client parameters that verify",
  "ssl.secureclient checks the server's certificate and name",
  "ssl.secureclient refuses TLS 1.1 and older, against openssl s_server",
})

local X6 = { "deliberate", "ssl.https in sslua verifies the server against the system store and the URL's host by default, with TLS 1.2 or later; LuaSec's default is verify = 'none' (doc/luasec-differences.md: ssl.https verifies the server by default)" }
add(X6, "spec/https_spec.lua", {
  "ssl.https module tcp() fills the secure defaults into the params and forces client mode",
  "ssl.https against openssl s_server -WWW string form verifies against the system store by default",
  "ssl.https against openssl s_server -WWW checks the URL's host against the certificate",
  "ssl.https against openssl s_server -WWW socket.http.request('https://...') goes through ssl.https.tcp",
})

add(W5, "spec/lifetime_spec.lua", {
  "connection methods in every state setoption when closed",
  "connection methods in every state getpeername when closed",
  "connection methods in every state getfamily when closed",
  "connection methods in every state setverifyhost when closed",
  "connection methods in every state getoption when closed",
  "connection methods in every state gettimeout when closed",
  "connection methods in every state getsockname when closed",
  "connection methods in every state setverifyhost when failed",
  "connection methods in every state shutdown when connected",
  "connection methods in every state setoption when connected",
  "connection methods in every state getpeername when connected",
  "connection methods in every state getfamily when connected",
  "connection methods in every state setverifyhost when connected",
  "connection methods in every state getoption when connected",
  "connection methods in every state gettimeout when connected",
  "connection methods in every state getsockname when connected",
})

local X8 = { "fault", "LuaSec answers this method with nothing or a bare false in this state (no message); sslua answers in every state with LuaSec's result shapes or nil, 'closed' (doc/luasec-differences.md: Answers in every state)" }
add(X8, "spec/lifetime_spec.lua", {
  "connection methods in every state getpeerfinished when closed",
  "connection methods in every state exportkeyingmaterial when closed",
  "connection methods in every state settlsa when connected",
  "connection methods in every state setdane when connected",
  "connection methods in every state sni when connected",
})

add(W4, "spec/lifetime_spec.lua", {
  "connection methods in every state close when connected",
})


local X11 = { "lacks", "ssl.config.option_effects is an sslua addition (LuaSec does not say which options do anything)" }
add(X11, "spec/option_effects_spec.lua", {
  "option effects every 'none' or 'dtls-only' option is in the no-visible-effect table",
  "option effects no visible effect: accepted, and the handshake is the same as without no_dtls_mask (DTLS only)",
})

local X12 = { "fault", "LuaSec maps no_dtlsv1/no_dtlsv1_2 to the bits of no_tlsv1/no_tlsv1_2 and disables those TLS versions (doc/luasec-differences.md: Option names sharing bits)" }
add(X12, "spec/option_effects_spec.lua", {
  "option effects no visible effect: accepted, and the handshake is the same as without no_dtlsv1_2 (DTLS only (not TLS 1.2's bit here))",
})

local X13 = { "deliberate", "LuaSec on OpenSSL 3: receive('*a') from a peer that ends without close_notify fails with 'unexpected eof while reading'; sslua returns the data, as LuaSocket's '*a' does (doc/luasec-differences.md: receive(\"*a\") at an end without close_notify returns the data)" }
add(X13, "spec/option_effects_spec.lua", {
  "option effects ignore_unexpected_eof *a returns the data either way (README: LuaSocket's *a has no other end)",
})

local X14 = { "lacks", "protocol ranges (protocol = {min, max}, context.setprotocolrange) are sslua additions; LuaSec takes one protocol string" }
add(X14, "spec/ranges_spec.lua", {
  "protocol ranges negotiate inside both ranges",
  "protocol ranges fail when the ranges do not meet",
  "protocol ranges refuse bad names, bad types and min > max with nil, message",
  "protocol ranges context.setprotocolrange replaces both bounds; closed context",
  "protocol ranges against openssl s_server -tls1_2",
})

local X15 = { "lacks", "session resumption (sessioncache, getsession/setsession, sessionreused, importsession) is an sslua addition: LuaSec keeps OpenSSL's session cache off and cannot resume" }
add(X15, "spec/session_spec.lua", {
  "session resumption tlsv1_2: the second connection resumes (cache true)",
  "session resumption tlsv1_2: the second connection resumes (cache false)",
  "session resumption tlsv1_2: an exported and imported session resumes",
  "session resumption tlsv1_3: the second connection resumes (cache true)",
  "session resumption tlsv1_3: the second connection resumes (cache false)",
  "session resumption tlsv1_3: an exported and imported session resumes",
  "session resumption TLS 1.3: the session is there only after the first read",
  "session resumption TLS 1.2 no_ticket without cache: nothing to resume",
  "session resumption TLS 1.2 no_ticket with the cache: resumed by session id",
  "session resumption a server verifying clients resumes with the cache on (id context set)",
  "session misuse setsession refuses junk, servers and a started handshake",
  "session misuse importsession refuses what is not a session",
  "session misuse sessioncache values are checked",
  "session resumption against openssl tlsv1_2: s_client -sess_out then -sess_in, our server",
  "session resumption against openssl tlsv1_2: our client resumes with openssl s_server",
  "session resumption against openssl tlsv1_3: s_client -sess_out then -sess_in, our server",
  "session resumption against openssl tlsv1_3: our client resumes with openssl s_server",
})

local Y1 = { "lacks", "getalert() and error objects are sslua additions; LuaSec reports errors as strings only" }
add(Y1, "spec/alert_spec.lua", {
  "getalert records the fatal alert on both sides of a failed verification",
  "getalert is nil before any alert, then shows close_notify",
  "getalert our server hears s_client's unknown CA alert",
  "getalert our client hears s_server's protocol version alert",
})
add(Y1, "spec/errobj_spec.lua", {
  "error objects a verification failure: kind, codes, depth; tostring is today's text",
  "error objects tls, closed and timeout kinds; partial results stay",
  "error objects an OCSP failure is a verify error with the OCSP verify code",
  "error objects a peer's alert is a tls error",
})

local Y2 = { "lacks", "the keylog parameter (NSS key log lines) is an sslua addition: LuaSec ignores it" }
add(Y2, "spec/keylog_spec.lua", {
  "keylog tlsv1_2: a path gets the NSS lines of both ends, the same secrets",
  "keylog tlsv1_2: a function is called with each line (no newline)",
  "keylog tlsv1_2: our server's lines match s_client -keylogfile's",
  "keylog tlsv1_3: a path gets the NSS lines of both ends, the same secrets",
  "keylog tlsv1_3: a function is called with each line (no newline)",
  "keylog tlsv1_3: our server's lines match s_client -keylogfile's",
  "keylog lines are appended, never truncated",
  "keylog a function that errors or closes its connection cannot break anything",
  "keylog bad values are refused at newcontext",
})

local Y3 = { "lacks", "LuaSec connections lack this method (sessions, alerts and OCSP are sslua additions)" }
add(Y3, "spec/lifetime_spec.lua", {
  "connection methods in every state getalert when closed",
  "connection methods in every state getsession when closed",
  "connection methods in every state getocsp when closed",
  "connection methods in every state sessionreused when closed",
  "connection methods in every state setsession when closed",
  "connection methods in every state getalert when failed",
  "connection methods in every state getsession when failed",
  "connection methods in every state getocsp when failed",
  "connection methods in every state sessionreused when failed",
  "connection methods in every state setsession when failed",
  "connection methods in every state getalert when connected",
  "connection methods in every state getsession when connected",
  "connection methods in every state getocsp when connected",
  "connection methods in every state sessionreused when connected",
  "connection methods in every state setsession when connected",
  "connection methods in every state getalert when fresh",
  "connection methods in every state getsession when fresh",
  "connection methods in every state getocsp when fresh",
  "connection methods in every state sessionreused when fresh",
  "connection methods in every state setsession when fresh",
})

add(W4, "spec/lifetime_spec.lua", {
  "connection methods in every state survives close called repeatedly and a receive after each",
})

local Y5 = { "deliberate", "bad ssl.wrap arguments raise in LuaSec (or wrap a dead socket); sslua returns nil, 'invalid socket (...)' / 'invalid context (...)' / 'closed' (doc/luasec-differences.md: Other deliberate differences)" }
add(Y5, "spec/lifetime_spec.lua", {
  "ssl.wrap rejects a socket that is already closed",
  "ssl.wrap rejects wrapping the same socket twice",
  "ssl.wrap rejects things that are not sockets",
  "ssl.wrap rejects a second argument that is neither params nor a context",
  "ssl.wrap returns newcontext's message for bad params",
})

local Y6 = { "lacks", "OCSP stapling (the ocsp parameter, conn:getocsp) is an sslua addition: LuaSec ignores the parameter" }
add(Y6, "spec/ocsp_spec.lua", {
  "OCSP stapling tlsv1_2: require accepts a good staple; getocsp returns it",
  "OCSP stapling tlsv1_2: require fails on revoked",
  "OCSP stapling tlsv1_2: require fails on no staple",
  "OCSP stapling tlsv1_2: require fails on another certificate's response",
  "OCSP stapling tlsv1_2: require fails on junk",
  "OCSP stapling tlsv1_2: a response signed by an untrusted responder fails require",
  "OCSP stapling tlsv1_2: request takes any staple, or none",
  "OCSP stapling tlsv1_2: our server staples the responses s_server -status_file staples",
  "OCSP stapling tlsv1_3: require accepts a good staple; getocsp returns it",
  "OCSP stapling tlsv1_3: require fails on revoked",
  "OCSP stapling tlsv1_3: require fails on no staple",
  "OCSP stapling tlsv1_3: require fails on another certificate's response",
  "OCSP stapling tlsv1_3: require fails on junk",
  "OCSP stapling tlsv1_3: a response signed by an untrusted responder fails require",
  "OCSP stapling tlsv1_3: request takes any staple, or none",
  "OCSP stapling tlsv1_3: our server staples the responses s_server -status_file staples",
  "OCSP stapling a server function that errors or returns junk staples nothing",
  "OCSP stapling a client that does not ask gets no staple",
  "OCSP stapling bad values are refused at newcontext",
  "OCSP stapling against openssl our client requires a good staple from s_server -status_file",
  "OCSP stapling against openssl our client refuses s_server's revoked staple",
  "OCSP stapling against openssl s_client -status reads our server's staple",
})

add({ "fault", "LuaSec raises for bad wrap/newcontext/create values (a getfd that returns no number, values whose __tostring fails) instead of returning nil, message (found by fuzz/api.lua)" },
  "spec/fuzz_regressions_spec.lua", {
  "fuzz regressions wrap with a socket whose getfd() is not a number returns nil, message",
  "fuzz regressions newcontext with an option whose tostring fails returns nil, message",
  "fuzz regressions newcontext with a mode whose tostring fails returns nil, message",
  "fuzz regressions core.create with a value whose tostring fails returns nil, message",
})

-- Faults, close variables, collection, callback errors.
add({ "timing", "LuaSec maps ECONNRESET to 'closed' but passes EPIPE through as 'Broken pipe'; when one of the TLS 1.3 server's ticket writes already took the ECONNRESET, the measured send gets EPIPE (about 1 run in 3 here). sslua says 'closed' for both" },
  "spec/faults_spec.lua", { "faults (interop/faultrelay.py between the two ends) on what our side sends a reset fails send with closed: our server, TLS 1.3, blocking" })
add({ "timing", "LuaSec (through LuaSocket's timeout_getretry) counts a block timeout from the start of the call, so the whole 20000-byte receive must end within the spec's 0.5 s; the split fault trickles it one byte per send, which on a loaded machine takes longer (2 runs in 4 here) and LuaSec gives up with 'wantread'. sslua's block timeout bounds each wait" },
  "spec/faults_spec.lua", { "faults (interop/faultrelay.py between the two ends) split toward our client, TLS 1.3, blocking" })
add({ "crash", "LuaSec's certificate __close/__gc frees the X509 without forgetting it: a second call (or any method after __close) uses freed memory: segmentation fault" },
  "spec/close_variables_spec.lua", { "__close called directly certificate: closes, ignores the error argument, repeats harmlessly, then __gc" })

add({ "fault", "LuaSec's context __close frees it but tostring() still says 'SSL context: 0x...' (no '(closed)') and ssl.wrap raises \"bad argument #1 to 'create' (invalid context)\" instead of returning nil, 'closed'" },
  "spec/close_variables_spec.lua", { "__close called directly context: closes, ignores the error argument, repeats harmlessly, then __gc" })
add({ "lacks", "sessions (conn:getsession, session objects) are an sslua addition: LuaSec keeps OpenSSL's session cache off and cannot resume" },
  "spec/close_variables_spec.lua", { "__close called directly session: closes, ignores the error argument, repeats harmlessly, then __gc" })
add({ "lacks", "verifycallback is an sslua addition: LuaSec ignores it, so verify = 'peer' succeeds and no 'callback: context closed' failure happens" },
  "spec/close_variables_spec.lua", {
  "__close called directly a context closed before the handshake fails its verifycallback, never skips it",
  "__close called directly a context closed by its own verifycallback fails the rest of the chain",
})

add_match({ "lacks", "every collection-orders world is a client whose trust anchor is an x509 object (cafile = cert: LuaSec reads cafile from a file only and raises 'string expected, got SSL:Certificate'), with errorobjects and getsession besides" },
  "spec/collection_spec.lua", "^collection orders ")
add({ "fault", "retrying a failed handshake: LuaSec keeps no failed state, so its second dohandshake() reads the end of stream after the reset and says 'unexpected eof while reading' instead of repeating 'closed' (doc/luasec-differences.md: Retrying a failed handshake)" },
  "spec/collection_spec.lua", { "connections collected without close() mid-handshake, the client only: the server's handshake fails" })
add(VERIFY_REASON, "spec/collection_spec.lua", { "objects outliving their connection the error object of a failed handshake keeps its fields after the connection is collected" })
add(SNI_NOTHING, "spec/collection_spec.lua", {
  "connections collected without close() after the coroutine that drove its handshake was collected",
  "connections collected without close() from inside another connection's callback",
  "connections collected without close() SNI map contexts made after their connection, all collected at once",
  "cycles through callbacks are collected a server connection whose SNI map's context has a callback referring to it",
})
add({ "fault", "LuaSec keeps a context's ALPN function in a registry table (a strong reference) until the context's __gc: a function that refers back to its context pins it, which is never collected (a leak; doc/luasec-differences.md: ALPN)" },
  "spec/collection_spec.lua", {
  "cycles through callbacks are collected a context whose ALPN function refers back to it",
  "cycles through callbacks are collected a context and its connections, the callback having run in their handshake",
})
add({ "fault", "LuaSec 1.3.2 keeps PSK functions in a registry table (a strong reference) until the context's __gc, as it does ALPN functions: a PSK function that refers back to its context pins it, which is never collected (a leak). LuaSec 1.2.0 has no PSK and passes", upstream = "1.3.2" },
  "spec/collection_spec.lua", { "cycles through callbacks are collected a context whose psk function refers back to it" })
add({ "lacks", "getalert() is an sslua addition", upstream = "1.2.0" },
  "spec/collection_spec.lua", { "connections collected without close() connected: the peer receives a close_notify" })
add({ "lacks", "verifycallback is an sslua addition: LuaSec never calls it, so no certificate is kept" },
  "spec/collection_spec.lua", { "objects outliving their connection certificates kept by a verifycallback work after connection and context are collected" })
add({ "lacks", "sessions (conn:getsession, session objects) are an sslua addition" },
  "spec/collection_spec.lua", { "objects outliving their connection certificates and a session after close() and the context's own __gc" })

local CB = "spec/callback_errors_spec.lua"
add_match({ "fault", "LuaSec calls the password function unprotected inside OpenSSL: an error (or yield) in it escapes through OpenSSL out of ssl.newcontext; sslua returns nil, 'error loading private key (password callback failed: <error>)' (doc/luasec-differences.md: Lua errors escaping through OpenSSL)" },
  CB, "^an error inside a callback password function %(key file%) ")
add_match({ "lacks", "keys from memory are an sslua addition: LuaSec takes the PEM text as a file name, fails with a reason from a stale error queue ('(null)', 'system lib') and never calls the password function" },
  CB, "^an error inside a callback password function %(key data%) ")
add_match({ "lacks", "the pkcs12 parameter is an sslua addition: LuaSec ignores it (newcontext succeeds, no password function runs)" },
  CB, "^an error inside a callback password function %(PKCS#12%) ")
add_match({ "deliberate", "LuaSec's dhparam is a per-handshake temporary-DH callback: newcontext never calls it and succeeds; sslua calls it once at newcontext and reports its error (doc/luasec-differences.md: dhparam is called once, at newcontext)" },
  CB, "^an error inside a callback dhparam function ")
add_match({ "lacks", "verifycallback is an sslua addition: LuaSec never calls it" },
  CB, "^an error inside a callback verifycallback %(%a+%) ")
add_match({ "lacks", "LuaSec 1.2.0 has no PSK (the psk parameter arrived in 1.3) and never calls the function", upstream = "1.2.0" },
  CB, "^an error inside a callback psk function %(%a+%) ")
add_match({ "fault", "LuaSec 1.3.2 calls the PSK function unprotected inside OpenSSL's handshake: an error (or yield) in it escapes through OpenSSL out of dohandshake; sslua fails the handshake with 'callback failed (PSK callback: <error>)' (doc/luasec-differences.md: Lua errors escaping through OpenSSL)", upstream = "1.3.2" },
  CB, "^an error inside a callback psk function %(%a+%) ")
add_match({ "fault", "LuaSec calls the ALPN function unprotected inside OpenSSL's handshake: an error (or yield) in it escapes through OpenSSL out of dohandshake; sslua runs it protected and selects no protocol (doc/luasec-differences.md: Lua errors escaping through OpenSSL)" },
  CB, "^an error inside a callback ALPN function %l")
add_match({ "fault", "LuaSec calls the ALPN function unprotected inside OpenSSL's handshake: an error (or yield) in it escapes through OpenSSL out of dohandshake (and alpnstrict is an sslua addition besides)" },
  CB, "^an error inside a callback ALPN function %(alpnstrict = true%) ")
add_match({ "lacks", "the keylog parameter is an sslua addition: LuaSec never calls the function" },
  CB, "^an error inside a callback keylog function %(%a+%) ")
add_match({ "lacks", "OCSP stapling (the ocsp parameter) is an sslua addition: LuaSec never calls the function" },
  CB, "^an error inside a callback OCSP function %(server%) ")
add({ "lacks", "verifycallback and errorobjects are sslua additions: LuaSec never calls the callback and the handshake succeeds" }, CB, {
  "an error inside a callback verifycallback: a Lua stack overflow (a million slots deep)",
  "an error inside a callback with errorobjects = true: a verify error object carrying the callback's message",
  "a callback closing its own context verifycallback: the rest of the chain is rejected",
})
add_match({ "lacks", "LuaSec never calls the keylog and ocsp functions (sslua additions), nor, in 1.2.0, the psk function (1.3.2's crashes, listed above): nothing closes the connection and the handshake succeeds" },
  CB, "^a callback closing its own connection %a+ function %(%a+%)$")
add({ "lacks", "verifycallback is an sslua addition: LuaSec never calls it, so nothing closes the connection and the handshake succeeds" }, CB, {
  "a callback closing its own connection verifycallback (client)",
  "a callback closing its own connection verifycallback (server)",
})
add({ "deliberate", "ssl.newcontext { mode = 'server' } without protocol raises in LuaSec ('string expected, got nil'); sslua defaults to 'any' (doc/luasec-differences.md: Other deliberate differences) - and context.loadkeydata/loadpkcs12 are sslua additions besides" }, CB, {
  "a callback closing its own context password function: loadkey, loadkeydata and loadpkcs12 answer false, 'closed'",
  "a callback closing its own context dhparam function: false, 'closed'",
})
local CLOSED_TOSTRING = { "fault", "LuaSec's context __close (called from the callback) frees the context, but tostring() still says 'SSL context: 0x...' without '(closed)' (doc/luasec-differences.md: Closed contexts)" }
add(CLOSED_TOSTRING, CB, { "a callback closing its own context ALPN function: the handshake completes" })
add({ CLOSED_TOSTRING[1], CLOSED_TOSTRING[2], upstream = "1.3.2" }, CB, {
  "a callback closing its own context psk function (client): the handshake completes",
  "a callback closing its own context psk function (server): the handshake completes",
})
add_match({ "lacks", "LuaSec never calls the keylog and ocsp functions (sslua additions), nor, in 1.2.0, the psk function: the context is not closed" },
  CB, "^a callback closing its own context %a+ function %(%a+%): the handshake completes$")
add(SNI_NOTHING, CB, {
  "an SNI map with metamethods that raise is copied raw: no metamethod runs, at sni() or in the handshake",
})

add({ "deliberate", "receive('*a') when the peer ends at a record boundary without close_notify: sslua returns the data as LuaSocket's '*a' does; LuaSec on OpenSSL 3 fails with 'unexpected eof while reading' and hands back no data (doc/luasec-differences.md: receive(\"*a\") at an end without close_notify returns the data)" },
  "spec/faults_spec.lua", { "faults (interop/faultrelay.py between the two ends) receive(\"*a\") returns everything when only the close_notify is missing (see README)" })

local SA = "spec/alpn_spec.lua"
local STRICT_ROW = "^ALPN negotiation %(oracle%) alpnstrict: client "
add_match({ "fault", "LuaSec's ALPN parameter: a string server list is 'invalid ALPN parameter' (newcontext fails before any handshake)" },
  SA, STRICT_ROW .. ".-, server 'h2' %(string%)$")
add_match({ "fault", "LuaSec calls the ALPN function unprotected inside OpenSSL's handshake: an error in it escapes through OpenSSL out of dohandshake" },
  SA, STRICT_ROW .. "[^n].-, server callback raises$")
add_match({ "fault", "LuaSec calls the ALPN function unprotected inside OpenSSL's handshake: a yield in it escapes through OpenSSL out of dohandshake as 'attempt to yield from outside a coroutine'" },
  SA, STRICT_ROW .. "[^n].-, server callback yields %(not allowed%)$")
-- alpnstrict rows where the client offered ALPN and the server's answer
-- selects nothing: LuaSec ignores alpnstrict and completes the handshake.
local NO_ALPN = { "lacks", "alpnstrict is an sslua addition: LuaSec ignores it and completes the handshake without ALPN instead of failing with no_application_protocol" }
for _, answer in ipairs { "{nope}", "{h2, 5} (junk)", "''", "42", "nil", "{}" } do
  -- these answers select nothing for any offer; client "none" offers nothing (passes)
  add_match(NO_ALPN, SA, STRICT_ROW .. "[^n].-, server callback %-> " .. answer:gsub("%p", "%%%0") .. "$")
end
local function strict_rows(offers, forms)
  local names = {}
  for _, offer in ipairs(offers) do
    for _, form in ipairs(forms) do
      names[#names + 1] = "ALPN negotiation (oracle) alpnstrict: client " .. offer .. ", server " .. form
    end
  end
  return names
end
add(NO_ALPN, SA, strict_rows({ "'h2' (string)", "{h2}", "{http/1.1,h2}", "{x,http/1.1}" },
  { "{foo}", "callback -> 'foo' (not offered)" }))
add(NO_ALPN, SA, strict_rows({ "{spdy/3,foo}" },
  { "{h2,http/1.1}", "{http/1.1,h2}", "callback -> 'h2'", "callback -> {http/1.1,h2}", "callback -> fresh 'h2', then GC" }))
add(NO_ALPN, SA, strict_rows({ "{x,http/1.1}" }, { "callback -> 'h2'", "callback -> fresh 'h2', then GC" }))
add(NO_ALPN, SA, {
  "ALPN negotiation (oracle) alpnstrict on TLS 1.2 ends a no-overlap handshake the same way",
  "against openssl ALPN s_client -alpn, our alpnstrict server without overlap: no_application_protocol",
})
add({ "lacks", "alpnstrict (parameter and context.setalpnstrict) is an sslua addition: LuaSec ignores the parameter, so no value is refused" }, SA, {
  "ALPN parameter errors alpnstrict: a boolean, on a server context",
})
add({ "fault", "LuaSec's context.setalpn on a closed context answers false, 'error setting ALPN ((null))' (words from an empty error queue) instead of false, 'closed'; setalpnstrict is an sslua addition besides" }, SA, {
  "ALPN parameter errors setalpn, setalpncb and setalpnstrict on a closed context answer false, 'closed'",
})
add({ "deliberate", "LuaSec's sni() returns nothing (the test asserts true), and LuaSec keeps the trailing dot and matches the map case-sensitively; sslua ignores the root dot and case (doc/luasec-differences.md: Other deliberate differences)" }, "spec/sni_spec.lua", {
  "SNI tlsv1_2 a trailing root dot names the same host, both ways; the client sends the name without it",
  "SNI tlsv1_3 a trailing root dot names the same host, both ways; the client sends the name without it",
  "against openssl SNI s_client -servername with a trailing dot, our strict server maps it to the dotless name",
})
add(W14, "spec/psk_spec.lua", {
  "psk on TLSv1.2 a verifying server and a verifying client still agree on the PSK",
  "psk on TLSv1.3 a verifying server and a verifying client still agree on the PSK",
})

-- spec/verify_reasons_spec.lua and spec/load_errors_spec.lua: why a
-- handshake or a credential failed. First match wins, so the narrower
-- entries come first.
local VR, LE = "spec/verify_reasons_spec.lua", "spec/load_errors_spec.lua"
local VERIFY_REASON_AND_RESULT = { "deliberate", "LuaSec fails a verification with the bare 'certificate verify failed' (no verify reason, depth or subject) and answers getpeerverification() after a failed handshake with false, 'closed'; sslua says why and keeps the verify result (doc/luasec-differences.md: A failed verification says why)" }
add_match({ "lacks", "verifyhost is an sslua addition: LuaSec ignores the parameter and checks no host name or IP address, so a handshake with a certificate for another name succeeds" },
  VR, "^verify reasons .*blocking .- %(verifyhost%): ")
add_match(VERIFY_REASON_AND_RESULT, VR, "^verify reasons .*blocking .-: the message and getpeerverification%(%)$")
add_match({ "fault", "a capath that does not exist or is not a directory: LuaSec accepts it silently (OpenSSL looks nothing up there), so newcontext succeeds; sslua fails it with 'error loading CA locations (<strerror>)' (doc/luasec-differences.md: Parameter errors)" },
  LE, "^load errors .- capath: ")
add_match({ "lacks", "errorobjects is an sslua addition: LuaSec ignores the parameter, so dohandshake and newcontext return the message string instead of an error object" },
  VR, "^verify reasons .-: the error object")
add_match({ "lacks", "errorobjects is an sslua addition: LuaSec ignores the parameter, so dohandshake and newcontext return the message string instead of an error object" },
  LE, "^load errors newcontext's error object ")
add_match({ "lacks", "the pkcs12 parameter is an sslua addition: LuaSec ignores it, so newcontext succeeds without loading the bundle" },
  LE, "^load errors .- pkcs12[ :]")
add_match({ "lacks", "key, certificate and cafile as data in memory are an sslua addition: LuaSec takes the string as a file name, and its message carries a stale error queue's '(null)' or an unrelated reason" },
  LE, "^load errors .- data: ")
add_match({ "fault", "an encrypted key without a password: LuaSec leaves OpenSSL's terminal prompt in place, which without a terminal fails as 'bad decrypt'; sslua never prompts and says 'password required' (doc/luasec-differences.md: Parameter errors)" },
  LE, "^load errors .- private key: encrypted, no password: ")
local STALE_QUEUE = { "fault", "LuaSec on OpenSSL 3 words a failed load from the top of a stale or empty error queue - '(null)' or 'system lib' - instead of strerror's or OpenSSL's reason, so Prosody's certificate manager gives the wrong advice (e.g. 'Check that the file exists and the permissions are correct' for a missing file)" }
for _, case in ipairs({
  { "certificate: no such file", "certificate", "No such file or directory" },
  { "certificate: a file we may not read", "certificate", "Permission denied" },
  { "private key: no such file", "private key", "No such file or directory" },
  { "private key: a file without PEM content", "private key", "unsupported" },
  { "private key: encrypted, a wrong password", "private key", "bad decrypt" },
  { "private key: encrypted, a password function giving a wrong one", "private key", "bad decrypt" },
  { "cafile: no such file", "CA locations", "No such file or directory" },
}) do
  local name, what, reason = case[1], case[2], case[3]
  add(STALE_QUEUE, LE, {
    ("load errors newcontext's message %s: 'error loading %s (%s)'"):format(name, what, reason),
    ("load errors read the way Prosody reads LuaSec's %s: the what-part parses and the advice is LuaSec's for '%s'"):format(name, reason),
  })
end
add(STALE_QUEUE, LE, {
  "load errors read the way Prosody reads LuaSec's a missing file: 'Check that the path is correct, and the file exists.'",
})

-- A failed verification says why (doc/luasec-differences.md): sslua's
-- message is 'certificate verify failed (<reason>)', past the leaf with the
-- depth and subject; LuaSec's is the bare 'certificate verify failed'.
add_match(VERIFY_REASON, "spec/verify_spec.lua", "certificate verify failed %(")
-- one test per s_server certificate, each round named by the alert s_server
-- reports when our client's verification fails there ("ok" otherwise)
add_match(VERIFY_REASON, "spec/verify_spec.lua", "^verification against openssl our client checks s_server's certificate .* alert ")
add(VERIFY_REASON, "spec/dane_spec.lua", {
  "dane the same client without the TLSA record fails: nothing else is trusted",
  "dane 3 1 1 with a wrong digest: 'certificate verify failed'",
  "dane 2 0 1 with a digest of a root the server does not send fails (OpenSSL needs the full anchor)",
  "dane the base domain is checked against the certificate's names",
  "dane no_ee_namechecks skips the name check for DANE-EE(3) only",
})
add(VERIFY_REASON, "spec/verifyext_spec.lua", {
  "verifyext revoked, crl_check",
  "verifyext expired leaf, no flag",
  "verifyext lsec_ignore_purpose is needed for a server to accept a server-only certificate from a client",
  "verifyext ctx:setverifyext with no lsec flag turns lsec_continue off again",
})
add(VERIFY_REASON, "spec/errobj_spec.lua", { "error objects are off by default and refuse non-booleans" })
add(VERIFY_REASON, "spec/https_spec.lua", {
  "ssl.https against openssl s_server -WWW verify = 'peer' without a CA fails with 'certificate verify failed'",
})
add({ "deliberate", "getpeerverification() after a failed handshake: sslua still answers with the verify result (false, '<reason>'); LuaSec answers false, 'closed' (doc/luasec-differences.md: A failed verification says why)" },
  "spec/lifetime_spec.lua", { "connection methods in every state getpeerverification when failed" })

-- Sessions in a context and in ssl.https.
add({ "lacks", "session resumption (the sessioncache parameter, context.setsessioncache, conn:getsession) is an sslua addition: LuaSec keeps OpenSSL's session cache off and has neither function" },
  "spec/sessioncache_spec.lua", {
  "sessioncache switched off again on: the session is resumed (control)",
  "sessioncache switched off again on, then off: a full handshake",
  "sessioncache switched off again on, then off: a new connection gets no session to resume",
  "sessioncache switched off again on, off, on again: sessions made after are resumed",
})
add({ "lacks", "ssl.https resuming sessions between requests is an sslua addition: LuaSec's requests each make a new context with the session cache off, so every connection is a full handshake ('New' on s_server's status page)" },
  "spec/https_resumption_spec.lua", {
  "ssl.https session resumption the second request resumes the first one's session (-tls1_3)",
  "ssl.https session resumption the second request resumes the first one's session (-tls1_2)",
  "ssl.https session resumption does not reuse a session under another cafile",
  "ssl.https session resumption does not reuse a session under another verifyhost",
  "ssl.https session resumption does not reuse a session for another port",
  "ssl.https session resumption resume = false turns it off for one request",
})

-- ssl.https and the default port.
add({ "deliberate", "a request that times out in the handshake: sslua's ssl.https says 'timeout', as a LuaSocket object does; LuaSec's says 'wantread' (doc/luasec-differences.md: the other differences of ssl.https)" },
  "spec/https_port_spec.lua", {
  "ssl.https and the default port https://127.0.0.1/ goes to https.PORT",
  "ssl.https and the default port an explicit port wins over https.PORT",
})
add({ "fault", "a URL with an empty port (https://host:/): LuaSec's ssl.https keeps the empty port, which socket.http does not read as https.PORT, so the request goes elsewhere ('connection refused' here); sslua takes https.PORT, as for a URL without a port" },
  "spec/https_port_spec.lua", { "ssl.https and the default port https://127.0.0.1:/ goes to https.PORT" })

-- The negotiated key-exchange group and the OpenSSL library.
add({ "deliberate", "the describe block asks ssl.newcontext { mode = 'client', curveslist = NAME } which groups exist: without protocol LuaSec raises ('string expected, got nil'), sslua defaults to 'any' (doc/luasec-differences.md: Other deliberate differences)" },
  "spec/key_exchange_group_spec.lua", { "the negotiated key-exchange group (describe)" })
add({ "lacks", "ssl.config.library (the OpenSSL loaded at run time) is an sslua addition" },
  "spec/key_exchange_group_spec.lua", {
  "ssl.config.library names the OpenSSL loaded at run time, as the openssl command of this build says",
})

-- The documentation gate reads sslua's reference.
add({ "lacks", "the gate collects the module's public names from objects it makes - a session among them (conn:getsession is an sslua addition, so collecting fails) - and checks them against doc/reference.md, which documents sslua's additions too" },
  "spec/docs_spec.lua", {
  "docs gate (doc/reference.md) reads the module's public names",
  "docs gate (doc/reference.md) every function and field of ssl is documented",
  "docs gate (doc/reference.md) every newcontext parameter is documented",
  "docs gate (doc/reference.md) every protocol name is documented",
  "docs gate (doc/reference.md) every verify flag is documented",
  "docs gate (doc/reference.md) every verifyext flag is documented",
  "docs gate (doc/reference.md) every option name is documented",
  "docs gate (doc/reference.md) every ssl.config field and capability is documented",
  "docs gate (doc/reference.md) every ssl.context function and context method is documented",
  "docs gate (doc/reference.md) every connection method and metamethod is documented",
  "docs gate (doc/reference.md) every ssl.x509 function and certificate method is documented",
  "docs gate (doc/reference.md) every session method and metamethod is documented",
  "docs gate (doc/reference.md) every error object field and metamethod is documented",
  "docs gate (doc/reference.md) every ssl.core function and field is documented",
  "docs gate (doc/reference.md) every ssl.https function and field is documented",
  "docs gate (doc/reference.md) documents nothing the module does not have",
})
add({ "lacks", "ssl.config.option_effects is an sslua addition (LuaSec does not say which options do anything)" },
  "spec/docs_spec.lua", { "docs gate (doc/reference.md) gives each option the effect ssl.config.option_effects reports" })

-- spec/injected_failures_spec.lua: a shim preloaded into a child Lua makes
-- one OpenSSL call fail. The case's code comes first: where LuaSec cannot
-- run it, the failure is never reached.
local IF = "spec/injected_failures_spec.lua"
add({ "deliberate", "the case makes a context without protocol: LuaSec raises ('bad argument #1 to 'create' (string expected, got nil)'), sslua defaults to 'any' (doc/luasec-differences.md: Other deliberate differences), so the injected failure is never reached" }, IF, {
  "injected OpenSSL failures the shim passes every call through when nothing is named",
  "injected OpenSSL failures context.create: no SSL_CTX (SSL_CTX_new:2)",
  "injected OpenSSL failures context.create: the context cannot be found from its SSL_CTX (SSL_CTX_set_ex_data:1)",
  "injected OpenSSL failures alpn (server): its per-context state cannot be attached (SSL_CTX_set_ex_data:2)",
  "injected OpenSSL failures verifyext: its per-context state cannot be attached (SSL_CTX_set_ex_data:2)",
  "injected OpenSSL failures verifyhost: the name cannot be kept with the context (SSL_CTX_set_ex_data:2)",
  "injected OpenSSL failures conn:setverifyhost: the name cannot be kept with the connection (SSL_set_ex_data:2)",
  "injected OpenSSL failures wrap: no SSL (SSL_new)",
  "injected OpenSSL failures wrap: the connection cannot be found from its SSL (SSL_set_ex_data:1)",
  "injected OpenSSL failures wrap: the descriptor cannot be attached (SSL_set_fd)",
  "injected OpenSSL failures cafile = system: the default paths cannot be set (SSL_CTX_set_default_verify_paths)",
  "injected OpenSSL failures curve: refused (SSL_CTX_set1_groups_list:*/own)",
  "injected OpenSSL failures psk hint: refused (SSL_CTX_use_psk_identity_hint)",
  "injected OpenSSL failures alpn list: refused (SSL_CTX_set_alpn_protos)",
  "injected OpenSSL failures dane on a context: refused (SSL_CTX_dane_enable)",
  "injected OpenSSL failures conn:setdane: refused (SSL_dane_enable)",
  "injected OpenSSL failures conn:sni(name): refused (SSL_set_tlsext_host_name)",
})
add({ "deliberate", "the case asserts the result of the server's sni(map): LuaSec's sni() returns nothing, sslua's true (doc/luasec-differences.md: Other deliberate differences), so the injected failure is never reached" }, IF, {
  "injected OpenSSL failures SNI: the switch to the named context is refused (SSL_set_SSL_CTX)",
  "injected OpenSSL failures SNI: the switched context's verify parameters cannot be copied (X509_VERIFY_PARAM_set1)",
})
add({ "lacks", "key, certificate and cafile as data in memory or as certificate objects are sslua additions: LuaSec takes the string as a file name (and fails with '(null)') or raises for the object, before the failing call is made" }, IF, {
  "injected OpenSSL failures key data: no memory BIO (BIO_new_mem_buf)",
  "injected OpenSSL failures certificate data: the leaf is refused (SSL_CTX_use_certificate)",
  "injected OpenSSL failures certificate data: a chain certificate is refused (SSL_CTX_add0_chain_cert)",
  "injected OpenSSL failures certificate object: the old chain cannot be cleared (SSL_CTX_clear_chain_certs)",
  "injected OpenSSL failures cafile object: the store takes no certificate (X509_STORE_add_cert)",
  "injected OpenSSL failures cafile data: the store takes no certificate (X509_STORE_add_cert:*)",
})
add({ "fault", "the injected failure leaves OpenSSL's error queue empty, and LuaSec words its message from the top of that queue: 'error loading private key ((null))', 'error loading certificate ((null))'; sslua names the failure ('unusable key', 'no certificate found')" }, IF, {
  "injected OpenSSL failures key: refused (SSL_CTX_use_PrivateKey)",
  "injected OpenSSL failures certificate file: refused (SSL_CTX_use_certificate_chain_file)",
})
add({ "lacks", "protocol ranges (protocol = {min, max}) are an sslua addition: LuaSec raises for a table ('string expected, got table')" }, IF, {
  "injected OpenSSL failures protocol range: refused (SSL_CTX_set_min_proto_version:*)",
})
add({ "deliberate", "LuaSec's dhparam is a per-handshake callback, so newcontext never calls it or installs DH parameters and succeeds; sslua calls it once at newcontext (doc/luasec-differences.md: dhparam is called once, at newcontext)" }, IF, {
  "injected OpenSSL failures dhparam: refused (the key is freed) (SSL_CTX_set0_tmp_dh_pkey)",
})
add({ "lacks", "verifyhost is an sslua addition: LuaSec ignores the parameter, so newcontext succeeds without setting a host" }, IF, {
  "injected OpenSSL failures verifyhost: refused (X509_VERIFY_PARAM_set1_host)",
})
add({ "lacks", "sessions (conn:getsession, session:export) are an sslua addition" }, IF, {
  "injected OpenSSL failures conn:setsession: refused (SSL_set_session)",
  "injected OpenSSL failures session:export: encoding fails (i2d_SSL_SESSION:1)",
})
add({ "fault", "a failed X509_digest leaves OpenSSL's error queue empty, and LuaSec words its message from the top of that queue: 'error processing the certificate ((null))'; sslua keeps the template and names the failure ('digest failed')" }, IF, {
  "injected OpenSSL failures x509:digest: fails (X509_digest)",
})
add({ "fault", "LuaSec's x509:pem() answers a failed encoding with a lone nil (no message); sslua with nil, 'cannot encode certificate'" }, IF, {
  "injected OpenSSL failures x509:pem: encoding fails (PEM_write_bio_X509)",
})
add({ "lacks", "OCSP stapling (the ocsp parameter) is an sslua addition: LuaSec ignores it, so both handshakes succeed" }, IF, {
  "injected OpenSSL failures OCSP server: the staple cannot be set (SSL_set_tlsext_status_ocsp_resp)",
  "injected OpenSSL failures OCSP client: no certificate id for the response (OCSP_cert_to_id)",
})

-- LuaSec 1.3.2 as its own Makefile (and rockspec) builds it: the copy of
-- LuaSocket's buffer code it carries is compiled with LUASOCKET_DEBUG.
local ELAPSED = { "fault", "LuaSec 1.3.2 built by its own Makefile compiles its copy of LuaSocket's buffer code with LUASOCKET_DEBUG, so every send and receive returns one value more, the seconds the call took; LuaSocket's documented results (those of Debian's LuaSec 1.2.0 and of sslua) end before it (doc/luasec-differences.md: An extra value from send and receive)", upstream = "1.3.2" }
add(ELAPSED, "spec/lifetime_spec.lua", {
  "connection methods in every state send when fresh",
  "connection methods in every state send when connected",
  "connection methods in every state send when failed",
  "connection methods in every state send when closed",
  "connection methods in every state receive when fresh",
  "connection methods in every state receive when failed",
  "connection methods in every state receive when closed",
})
add(ELAPSED, "spec/io_spec.lua", {
  "conn:receive, differential against LuaSocket big payloads 1 MiB with *a (blocking, peer in a child process)",
  "conn:receive, differential against LuaSocket big payloads 1 MiB (+100 bytes) in 65536-byte counts (blocking, peer in a child process)",
  "conn:receive, differential against LuaSocket big payloads 100k short lines with *l (blocking, peer in a child process)",
})
add(ELAPSED, "spec/close_variables_spec.lua", {
  "__close called directly connection: closes, ignores the error argument, repeats harmlessly, then __gc",
})
add(ELAPSED, "spec/collection_spec.lua", {
  "connections collected without close() connected: the peer receives a close_notify",
})
add(ELAPSED, "spec/handshake_openssl_spec.lua", {
  "seed parameter tables against openssl seed client is refused by s_server that trusts another CA (-Verify 1 -verify_return_error -CAfile rogue-ca.pem)",
})
add(ELAPSED, "spec/option_effects_spec.lua", {
  "option effects ignore_unexpected_eof without it, *l after the FIN is 'unexpected eof while reading' with the partial",
  "option effects ignore_unexpected_eof with it, *l after the FIN is 'closed' with the partial",
  "option effects client-initiated renegotiation (s_client R on TLS 1.2) refused by default (OpenSSL 3): the client sees 'no renegotiation'",
  "option effects client-initiated renegotiation (s_client R on TLS 1.2) allow_client_renegotiation: renegotiates, and the data after it arrives",
  "option effects client-initiated renegotiation (s_client R on TLS 1.2) no_renegotiation wins over allow_client_renegotiation",
  "option effects client-initiated renegotiation (s_client R on TLS 1.2) legacy_server_connect / allow_unsafe_legacy_renegotiation: with a peer doing RFC 5746 nothing changes",
})

return list
