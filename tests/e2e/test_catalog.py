"""The catalogue: schema, extra rules, and the OCI artifact round trip through a real registry."""
import copy
import json
import os
import subprocess

import catalog
import pytest
from sale_sink import ROOT


@pytest.fixture()
def doc():
    return json.loads((ROOT / "locust/catalog.json").read_text())


def test_committed_catalogue_is_valid(doc):
    catalog.validate(doc)
    cats = [c["categoria"] for c in doc["categories"]]
    assert sorted(cats) == sorted(catalog.CATEGORIES)
    prefixes = {"Electronica": "ELE-", "Ropa": "ROP-", "Hogar": "HOG-", "Belleza": "BEL-"}
    for c in doc["categories"]:
        assert all(p["producto_id"].startswith(prefixes[c["categoria"]]) for p in c["products"])
    # the dashboard's default `producto` is the featured category's first product
    bel = next(c for c in doc["categories"] if c["categoria"] == "Belleza")
    assert bel["products"][0]["producto_id"] == "BEL-001"


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d["categories"][0].update(categoria="Juguetes"), "categories/0/categoria"),
    (lambda d: d["categories"][0]["products"][0].update(producto_id="bad id!"), "producto_id"),
    (lambda d: d["categories"][0]["products"][0].update(precio_min=0), "precio_min"),
    (lambda d: d["categories"][0]["products"][0].update(precio_min=10.0, precio_max=5.0), "precio_min > precio_max"),
    (lambda d: d["categories"][1]["products"][0].update(producto_id="ELE-001"), "not unique"),
    (lambda d: d["categories"].append(copy.deepcopy(d["categories"][0])), "categories"),
    (lambda d: d["cantidad_vendida"].update(min=0), "cantidad_vendida"),
    (lambda d: d.update(extra=True), "Additional properties"),
])
def test_invalid_catalogues_rejected(doc, mutate, msg):
    mutate(doc)
    with pytest.raises(catalog.CatalogError, match=msg):
        catalog.validate(doc)


def test_featured_weight(doc):
    w = dict(catalog.featured_weights(doc, "belleza", 3.5))
    assert w == {"Electronica": 1.0, "Ropa": 1.0, "Hogar": 1.0, "Belleza": 3.5}
    with pytest.raises(catalog.CatalogError):
        catalog.featured_weights(doc, "Juguetes", 2)


def _push(registry, ref):
    host, oras = registry
    return subprocess.run([str(ROOT / "locust/push-catalog.sh"), ref], capture_output=True, text=True,
                          env=dict(os.environ, ORAS=oras))


def test_push_and_pull_through_registry(registry):
    host, _ = registry
    ref = f"{host}/blackfriday/catalog:v1"
    r = _push(registry, ref)
    assert r.returncode == 0, r.stderr
    doc, info = catalog.load(ref)
    assert info["source"] == "oci" and info["artifact_type"] == catalog.ARTIFACT_TYPE
    assert info["title"] == "catalog.json"
    assert doc == json.loads((ROOT / "locust/catalog.json").read_text())
    # the manifest the registry stores says what it is
    import urllib.request
    req = urllib.request.Request(f"http://{host}/v2/blackfriday/catalog/manifests/v1",
                                 headers={"Accept": catalog.MANIFEST_TYPES})
    m = json.loads(urllib.request.urlopen(req).read())
    assert m["artifactType"] == catalog.ARTIFACT_TYPE
    assert [l["mediaType"] for l in m["layers"]] == [catalog.LAYER_MEDIA_TYPE]


def test_reference_given_means_registry_only(registry, tmp_path):
    host, oras = registry
    with pytest.raises(catalog.CatalogError, match="cannot fetch manifest"):
        catalog.load(f"{host}/blackfriday/catalog:does-not-exist")
    # an artifact of another type is refused
    f = tmp_path / "catalog.json"
    f.write_text((ROOT / "locust/catalog.json").read_text())
    subprocess.run([oras, "push", "--plain-http", "--artifact-type", "application/vnd.other.v1+json",
                    f"{host}/blackfriday/other:v1", f"catalog.json:{catalog.LAYER_MEDIA_TYPE}"],
                   cwd=tmp_path, check=True, capture_output=True)
    with pytest.raises(catalog.CatalogError, match="artifact type"):
        catalog.load(f"{host}/blackfriday/other:v1")
    # an artifact of our type whose content breaks the schema is refused
    bad = json.loads(f.read_text())
    bad["categories"][0]["products"][0]["precio_max"] = -1
    f.write_text(json.dumps(bad))
    subprocess.run([oras, "push", "--plain-http", "--artifact-type", catalog.ARTIFACT_TYPE,
                    f"{host}/blackfriday/catalog:broken", f"catalog.json:{catalog.LAYER_MEDIA_TYPE}"],
                   cwd=tmp_path, check=True, capture_output=True)
    with pytest.raises(catalog.CatalogError, match="precio_max"):
        catalog.load(f"{host}/blackfriday/catalog:broken")
