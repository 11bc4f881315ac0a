-- /upload for `make soak`: reads the whole request body and answers
-- "<bytes> <EXPECT_OUTCOME>\n".
function handle(r)
    local body = r:requestbody() or ""
    r.content_type = "text/plain"
    r:puts(string.format("%d %s\n", #body,
                         r.subprocess_env["EXPECT_OUTCOME"] or "-"))
    return apache2.OK
end
