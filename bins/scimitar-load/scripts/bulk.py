"""POST /Bulk throughput: creates TOTAL users in requests of PER operations from
THREADS clients, and prints users/s. Usage:
    python3 bulk.py BASE_URL TOKEN TOTAL PER THREADS USERNAME_PREFIX
(docs/benchmarks.md, "First sync")."""
import json, sys, time, threading, urllib.request
base, token, total, per, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
prefix = sys.argv[6]
bodies = []
for start in range(0, total, per):
    ops = []
    for i in range(start, min(start + per, total)):
        ops.append({"method": "POST", "path": "/Users", "bulkId": f"b{i}", "data": {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"{prefix}{i}@contoso.com",
            "name": {"givenName": f"G{i}", "familyName": f"F{i % 977}"},
            "emails": [{"value": f"{prefix}{i}@contoso.com", "type": "work", "primary": True}], "active": True}})
    bodies.append(json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops}).encode())
lock = threading.Lock(); created = [0]; failed = [0]
def worker(items):
    for body in items:
        req = urllib.request.Request(base + "/Bulk", data=body, method="POST", headers={"Authorization": "Bearer " + token, "Content-Type": "application/scim+json"})
        out = json.load(urllib.request.urlopen(req))
        ok = sum(1 for op in out["Operations"] if op["status"] == "201")
        with lock:
            created[0] += ok; failed[0] += len(out["Operations"]) - ok
chunks = [bodies[i::threads] for i in range(threads)]
t0 = time.time()
ts = [threading.Thread(target=worker, args=(c,)) for c in chunks]
[t.start() for t in ts]; [t.join() for t in ts]
dt = time.time() - t0
print(f"{created[0]} created, {failed[0]} failed in {dt:.1f}s: {created[0]/dt:.0f} users/s")
