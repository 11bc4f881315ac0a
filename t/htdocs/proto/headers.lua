-- Lists the request header fields as httpd parsed them, one per line, in
-- table order: name, a colon, the value in brackets.
function handle(r)
    r.content_type = "text/plain"
    for k, v in pairs(r:headers_in_table()) do
        r:puts(k .. ": [" .. v .. "]\n")
    end
    return apache2.OK
end
