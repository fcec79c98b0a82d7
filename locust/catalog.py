"""The product catalogue: loaded from the OCI registry (when a reference is given) or the local file,
validated against catalog.schema.json. Used by locustfile.py and scripts; no Locust import here.

OCI artifact (docs/main-job.md):
  artifact type  application/vnd.blackfriday.catalog.v1+json
  layer          catalog.json, media type application/vnd.blackfriday.catalog.layer.v1+json
  reference      <registry>/blackfriday/catalog:v1   e.g. 127.0.0.1:15000/blackfriday/catalog:v1
"""
import base64
import hashlib
import json
import os
import pathlib
import urllib.request

import jsonschema

HERE = pathlib.Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "catalog.schema.json"
LOCAL_FILE = HERE / "catalog.json"
ARTIFACT_TYPE = "application/vnd.blackfriday.catalog.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.blackfriday.catalog.layer.v1+json"
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json"
CATEGORIES = ("Electronica", "Ropa", "Hogar", "Belleza")


class CatalogError(Exception):
    pass


def validate(doc):
    """Schema check plus the rules a schema cannot say (ranges ordered, ids unique)."""
    schema = json.loads(SCHEMA_FILE.read_text())
    try:
        jsonschema.Draft202012Validator(schema).validate(doc)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        raise CatalogError(f"catalogue invalid at {where}: {e.message}") from None
    q = doc["cantidad_vendida"]
    if q["min"] > q["max"]:
        raise CatalogError("catalogue invalid: cantidad_vendida.min > max")
    seen, cats = set(), set()
    for c in doc["categories"]:
        if c["categoria"] in cats:
            raise CatalogError(f"catalogue invalid: category {c['categoria']} listed twice")
        cats.add(c["categoria"])
        for p in c["products"]:
            if p["producto_id"] in seen:
                raise CatalogError(f"catalogue invalid: producto_id {p['producto_id']} not unique")
            seen.add(p["producto_id"])
            if p["precio_min"] > p["precio_max"]:
                raise CatalogError(f"catalogue invalid: {p['producto_id']} precio_min > precio_max")
    return doc


def _split_ref(ref):
    """'host:port/repo/name:tag' or '…@sha256:…' -> (host, repo, reference)."""
    host, _, rest = ref.partition("/")
    if not rest:
        raise CatalogError(f"bad reference {ref!r}: want host[:port]/repository[:tag|@digest]")
    if "@" in rest:
        repo, _, tag = rest.partition("@")
    else:
        repo, _, tag = rest.rpartition(":") if ":" in rest else (rest, "", "latest")
    return host, repo, tag or "latest"


def _plain_http(host):
    env = os.environ.get("BF_REGISTRY_PLAIN_HTTP")
    if env is not None:
        return env not in ("0", "false", "")
    h = host.rsplit(":", 1)[0]
    return h in ("127.0.0.1", "localhost", "[::1]")


def _get(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    user, pw = os.environ.get("BF_REGISTRY_USER"), os.environ.get("BF_REGISTRY_PASSWORD")
    if user:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{pw or ''}".encode()).decode())
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(), r.headers


def pull(ref):
    """Downloads the catalogue artifact over the OCI distribution API.
    Returns (bytes, info) where info has manifest digest, layer digest, artifact type."""
    host, repo, tag = _split_ref(ref)
    base = f"{'http' if _plain_http(host) else 'https'}://{host}/v2/{repo}"
    try:
        raw, headers = _get(f"{base}/manifests/{tag}", accept=MANIFEST_TYPES)
    except Exception as e:
        raise CatalogError(f"cannot fetch manifest of {ref}: {e}") from None
    manifest = json.loads(raw)
    mdigest = "sha256:" + hashlib.sha256(raw).hexdigest()
    atype = manifest.get("artifactType") or (manifest.get("config") or {}).get("mediaType")
    if atype != ARTIFACT_TYPE:
        raise CatalogError(f"{ref} has artifact type {atype!r}, want {ARTIFACT_TYPE}")
    layers = [l for l in manifest.get("layers") or [] if l.get("mediaType") == LAYER_MEDIA_TYPE]
    if len(layers) != 1:
        raise CatalogError(f"{ref}: want exactly one layer of type {LAYER_MEDIA_TYPE}, found {len(layers)}")
    layer = layers[0]
    try:
        blob, _ = _get(f"{base}/blobs/{layer['digest']}")
    except Exception as e:
        raise CatalogError(f"cannot fetch blob {layer['digest']} of {ref}: {e}") from None
    got = "sha256:" + hashlib.sha256(blob).hexdigest()
    if got != layer["digest"] or len(blob) != layer.get("size", len(blob)):
        raise CatalogError(f"{ref}: blob digest {got} does not match the manifest's {layer['digest']}")
    return blob, {"source": "oci", "reference": ref, "manifest_digest": mdigest,
                  "layer_digest": got, "artifact_type": atype,
                  "title": (layer.get("annotations") or {}).get("org.opencontainers.image.title")}


def load(ref=None, local_file=None):
    """The catalogue and where it came from. With a reference the registry is the only source:
    a failure to pull is an error, never a silent fall back to the local file."""
    if ref:
        blob, info = pull(ref)
    else:
        path = pathlib.Path(local_file or LOCAL_FILE)
        blob, info = path.read_bytes(), {"source": "file", "path": str(path),
                                         "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    try:
        doc = json.loads(blob)
    except ValueError as e:
        raise CatalogError(f"catalogue is not JSON: {e}") from None
    return validate(doc), info


def featured_weights(doc, featured=None, featured_weight=None):
    """[(categoria, weight)] with the featured category's weight replaced when given."""
    out = []
    for c in doc["categories"]:
        w = float(c.get("weight", 1.0))
        if featured and featured_weight is not None and c["categoria"].lower() == featured.lower():
            w = float(featured_weight)
        out.append((c["categoria"], w))
    if featured and featured.lower() not in {c.lower() for c, _ in out}:
        raise CatalogError(f"featured category {featured!r} is not in the catalogue")
    return out


if __name__ == "__main__":
    import sys
    doc, info = load(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BF_CATALOG_REF"))
    n = sum(len(c["products"]) for c in doc["categories"])
    print(f"catalogue ok: {len(doc['categories'])} categories, {n} products, from {json.dumps(info)}")
