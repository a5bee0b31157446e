------------------------------------------------------------------------------
-- ssl.https: HTTPS for LuaSocket's socket.http (placeholder until the
-- https module lands; see issue "Reference implementation, part 2").
------------------------------------------------------------------------------
error("ssl.https is not implemented yet", 2)
