# Reads a `curl -i` response on stdin; prints the status line, the headers worth
# showing and the pretty-printed body; writes the raw body to argv[1].
import sys, json
raw = sys.stdin.read()
head, _, body = raw.partition("\r\n\r\n")
while head.startswith("HTTP/1.1 100"):
    head, _, body = body.partition("\r\n\r\n")
open(sys.argv[1], "w").write(body)
lines = head.split("\r\n")
keep = ("content-type", "location", "etag", "www-authenticate", "retry-after")
print(lines[0])
for line in lines[1:]:
    if line.split(":")[0].lower() in keep:
        print(line)
if body.strip():
    print()
    try:
        print(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except ValueError:
        print(body)
