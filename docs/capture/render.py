#!/usr/bin/env python3
"""Renders a guide template with captured requests and responses.

Usage: render.py TEMPLATE CAPTURE_DIR OUTPUT

Markers (each on its own, replaced by captured text):
  ⟦req:NAME⟧          the request: `METHOD PATH` and its body, as sent
  ⟦line:NAME⟧         the request line only
  ⟦sent:NAME⟧         the request body only
  ⟦resp:NAME⟧         status line, kept headers, blank line, compact body
  ⟦head:NAME⟧         status line and kept headers only
  ⟦status:NAME⟧       the status line only
  ⟦body:NAME⟧         the body, one line
  ⟦doc:NAME⟧          the body, top-level keys one per line, values compact
  ⟦pick:NAME:k1,k2⟧   `{ … "k1": v1, "k2": v2, … }` from the body
  ⟦pluck:NAME:key⟧    the list of `key` of each of a ListResponse's Resources
  ⟦pickin:NAME:a/0:k1,k2⟧  `pick` from a value inside the body
  ⟦text:NAME⟧         a CLI capture (`$ scimitar ...` and its output)
  ⟦val:NAME:a/b/0/c⟧  one value of the body (strings without quotes)
  ⟦file:FILE⟧         a file of the capture directory, as is
  ⟦webhook:TYPE⟧      the first webhook delivery of an event type, as received
  ⟦include:NAME⟧      snippets/NAME.md (text shared by the guides)
  ⟦serve⟧             the server's first-start output
  ⟦token⟧             the first-start token
  ⟦logline⟧           a request log line of the server (a GET of one user)
"""
import json
import re
import sys
from pathlib import Path

template, capture, output = sys.argv[1:4]
cap = Path(capture)


def text(name):
    return (cap / f"{name}.txt").read_text()


def parts(name):
    """(request lines, response lines) of a req capture."""
    raw = text(name)
    request, _, response = raw.partition("\nHTTP/1.1")
    response = "HTTP/1.1" + response
    request_lines = request.rstrip("\n").split("\n")
    request_lines[0] = request_lines[0].removeprefix("$ ")
    return request_lines, response


def body(name):
    path = cap / f"{name}.json"
    raw = path.read_text() if path.exists() else ""
    return json.loads(raw) if raw.strip() else None


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def one_line(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def head(name):
    _, response = parts(name)
    head_text, _, _ = response.partition("\n\n")
    return head_text.rstrip("\n")


def doc(value):
    if not isinstance(value, dict):
        return compact(value)
    lines = [f'  "{key}": {compact(item)}' for key, item in value.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def val(value, path):
    for step in path.split("/"):
        value = value[int(step)] if isinstance(value, list) else value[step]
    return value if isinstance(value, str) else compact(value)


def render(match):
    kind, _, arg = match.group(1).partition(":")
    name, _, rest = arg.partition(":")
    if kind == "req":
        request_lines, _ = parts(name)
        return "\n".join(request_lines).rstrip()
    if kind == "sent":
        return "\n".join(parts(name)[0][1:]).strip("\n")
    if kind == "line":
        return parts(name)[0][0]
    if kind == "resp":
        b = body(name)
        return head(name) + ("\n\n" + one_line(b) if b is not None else "")
    if kind == "head":
        return head(name)
    if kind == "status":
        return head(name).split("\n")[0]
    if kind == "body":
        return one_line(body(name))
    if kind == "doc":
        return doc(body(name))
    if kind == "pick":
        b = body(name)
        picked = ", ".join(f'"{key}": {compact(b[key])}' for key in rest.split(","))
        return "{ … " + picked + ", … }"
    if kind == "pluck":
        return compact([resource[rest] for resource in body(name)["Resources"]])
    if kind == "pickin":
        path, _, keys = rest.partition(":")
        inner = body(name)
        for step in path.split("/"):
            inner = inner[int(step)] if isinstance(inner, list) else inner[step]
        picked = ", ".join(f'"{key}": {compact(inner[key])}' for key in keys.split(","))
        return "{ … " + picked + ", … }"
    if kind == "text":
        return text(name).rstrip("\n")
    if kind == "webhook":
        for line in (cap / "webhook.jsonl").read_text().splitlines():
            delivery = json.loads(line)
            if delivery["body"]["type"] == name:
                headers = "\n".join(f"{k}: {v}" for k, v in delivery["headers"].items())
                return f"POST {delivery['path']}\n{headers}\n\n{doc(delivery['body'])}"
        raise SystemExit(f"no {name} delivery")
    if kind == "include":
        return (Path(__file__).parent / "snippets" / f"{name}.md").read_text().rstrip("\n")
    if kind == "file":
        return (cap / name).read_text().rstrip("\n")
    if kind == "val":
        return val(body(name), rest)
    if kind == "serve":
        return "$ scimitar serve\n" + (cap / "serve.out").read_text().rstrip("\n")
    if kind == "logline":
        for line in (cap / "serve.err").read_text().splitlines():
            if "scimitar_server::log" in line and " GET /scim/v2/Users/" in line and " 200 " in line:
                return line
        raise SystemExit("no request log line")
    if kind == "token":
        return (cap / "token").read_text().strip()
    raise SystemExit(f"unknown marker {match.group(0)}")


source = Path(template).read_text()
result = re.sub(r"⟦([a-z]+(?::[^⟧]*)?)⟧", render, source)
left = re.findall(r"⟦[^⟧]*⟧", result)
if left:
    raise SystemExit(f"markers left: {left}")
Path(output).write_text(result)
