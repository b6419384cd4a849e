"""Checks the deployment files without a container engine (CI has none).

- Dockerfile: parses; multi-stage; the final stage runs as a non-root user,
  keeps its data in a volume, and copies only the binary from the build stage;
  every base image names a version.
- compose.yaml: validated against the Compose specification's schema (by
  check-jsonschema, run from .ci/run); here: two Scimitar instances behind a
  proxy, on PostgreSQL.
"""

import sys

import yaml
from dockerfile_parse import DockerfileParser

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


parser = DockerfileParser(path="Dockerfile")
instructions = parser.structure
froms = [i for i in instructions if i["instruction"] == "FROM"]
check(len(froms) >= 2, "the Dockerfile is not multi-stage")
for step in froms:
    image = step["value"].split()[0]
    check(":" in image and not image.endswith(":latest"), f"unpinned base image {image}")
final_start = froms[-1]["startline"] if froms else 0
final = [i for i in instructions if i["startline"] >= final_start]
users = [i["value"] for i in final if i["instruction"] == "USER"]
check(users, "the final stage has no USER")
check(all(u.split(":")[0] not in ("root", "0") for u in users), f"the final stage runs as root: {users}")
check(any(i["instruction"] == "VOLUME" and "/data" in i["value"] for i in final), "no VOLUME /data")
copies = [i["value"] for i in final if i["instruction"] == "COPY"]
check(copies and all(c.startswith("--from=") for c in copies), f"the final stage copies sources: {copies}")
check(any(i["instruction"] == "EXPOSE" for i in final), "no EXPOSE")

with open("compose.yaml") as f:
    compose = yaml.safe_load(f)
services = compose.get("services", {})
scimitars = [name for name, s in services.items() if "scimitar" in str(s.get("image", "")) or s.get("build")]
check(len(scimitars) >= 2, f"compose.yaml runs {len(scimitars)} Scimitar instance(s), not two")
check(any("postgres" in str(s.get("image", "")) for s in services.values()), "no PostgreSQL in compose.yaml")
check("proxy" in services, "no proxy in compose.yaml")
for name in scimitars:
    url = services[name].get("environment", {}).get("SCIMITAR_DATABASE_URL", "")
    check(url.startswith("postgres://"), f"{name} is not on PostgreSQL")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"Dockerfile: {len(froms)} stages, runs as {users[-1]}; compose.yaml: {', '.join(scimitars)} behind proxy")
