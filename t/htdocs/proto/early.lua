-- Answers and flushes at once, without ever reading the request body.
function handle(r)
    r.content_type = "text/plain"
    r:puts("response sent before the body was read\n")
    r:flush()
    return apache2.OK
end
