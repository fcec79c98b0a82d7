"""The operator's Helm chart (config/helm/blackfriday-operator): `helm lint`, `helm template`
equal to `kubectl kustomize config/default` object for object, values that reach the objects,
and the templated objects accepted by the bench's kube-apiserver (server-side dry run, strict
field validation). Helm v4 is built from its Go module by scripts/setup.d/75-cloud.sh."""
import os

import pytest
import yaml

from conftest import ROOT, sh, tool_path

CHART = ROOT / "config/helm/blackfriday-operator"


@pytest.fixture(scope="module")
def helm():
    return tool_path("HELM", "Helm v4 built from helm.sh/helm/v4")


def template(helm, *sets, namespace="blackfriday-system"):
    args = [helm, "template", "blackfriday-operator", str(CHART), "--namespace", namespace, "--include-crds"]
    for s in sets:
        args += ["--set", s]
    return [d for d in yaml.safe_load_all(sh(args).stdout) if d]


def key(o):
    return (o["apiVersion"], o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])


def test_helm_lint(helm):
    r = sh([helm, "lint", "--strict", str(CHART)], check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_template_equals_kustomize(helm):
    chart = {key(o): o for o in template(helm, "namespace.create=true")}
    kust = {key(o): o for o in yaml.safe_load_all(sh(["kubectl", "kustomize", "config/default"]).stdout) if o}
    assert sorted(chart) == sorted(kust), "the chart and config/default install different objects"
    for k in kust:
        assert chart[k] == kust[k], f"{k} differs between helm template and kubectl kustomize"


def test_values_reach_the_objects(helm):
    objs = template(helm, "image.registry=registry.example:5000", "image.repository=team/op", "image.tag=9.9.9",
                    "imagePullSecrets[0].name=other-pull", "replicas=2", "resources.requests.cpu=200m",
                    "logLevel=debug", "image.pullPolicy=Always", namespace="ops")
    dep = [o for o in objs if o["kind"] == "Deployment"][0]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["image"] == "registry.example:5000/team/op:9.9.9"
    assert c["imagePullPolicy"] == "Always"
    assert pod["imagePullSecrets"] == [{"name": "other-pull"}]
    assert dep["spec"]["replicas"] == 2 and dep["metadata"]["namespace"] == "ops"
    assert c["resources"]["requests"]["cpu"] == "200m"
    assert {"name": "RUST_LOG", "value": "debug"} in c["env"]
    binding = [o for o in objs if o["kind"] == "ClusterRoleBinding"][0]
    assert binding["subjects"][0]["namespace"] == "ops"
    # tierNamespaces / grafanaNamespace: the namespaces created and bound, the Role in Grafana's,
    # the namespace rule's names and what the operator is told, all from the same values.
    objs = template(helm, "tierNamespaces={shop,queue,cache}", "grafanaNamespace=monitoring")
    assert sorted(o["metadata"]["name"] for o in objs if o["kind"] == "Namespace") == ["cache", "queue", "shop"]
    tier = sorted(o["metadata"]["namespace"] for o in objs
                  if o["kind"] == "RoleBinding" and o["roleRef"]["name"] == "blackfriday-operator-tier")
    assert tier == ["cache", "queue", "shop"]
    assert [o["metadata"]["namespace"] for o in objs if o["kind"] == "Role" and
            o["metadata"]["name"] == "blackfriday-operator"] == ["monitoring"]
    rules = [o for o in objs if o["kind"] == "ClusterRole" and o["metadata"]["name"] == "blackfriday-operator"][0]["rules"]
    assert [r["resourceNames"] for r in rules if r["resources"] == ["namespaces"]] == [["shop", "queue", "cache"]]
    env = [o for o in objs if o["kind"] == "Deployment"][0]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "BF_TIER_NAMESPACES", "value": "shop,queue,cache"} in env
    assert {"name": "BF_GRAFANA_NAMESPACE", "value": "monitoring"} in env
    # default tag: the chart's appVersion (what helm package --app-version sets in the recipes)
    app = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    dflt = [o for o in template(helm) if o["kind"] == "Deployment"][0]
    assert dflt["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f"/blackfriday/blackfriday-operator:{app}")
    assert "blackfriday-system" not in [o["metadata"]["name"] for o in template(helm) if o["kind"] == "Namespace"], \
        "namespace.create defaults to false"


def test_chart_crd_is_the_repo_crd():
    assert (CHART / "crds/blackfriday.dev_blackfridaypipelines.yaml").read_text() == \
        (ROOT / "crds/blackfriday.dev_blackfridaypipelines.yaml").read_text(), \
        "cp crds/blackfriday.dev_blackfridaypipelines.yaml config/helm/blackfriday-operator/crds/"


def test_apiserver_accepts_the_templated_objects(helm, tmp_path):
    if not os.environ.get("KUBECONFIG"):
        pytest.fail("KUBECONFIG not set: start the bench (scripts/testbed/up.sh) or run via scripts/test")
    # The RoleBindings go into the tier namespaces (a server dry run does not create the chart's
    # Namespaces) and into Grafana's, which its own release creates before this one.
    for ns in ("ingest", "kafka", "valkey", "grafana"):
        r = sh(["kubectl", "create", "namespace", ns], check=False)
        assert r.returncode == 0 or "AlreadyExists" in r.stderr, r.stderr
    f = tmp_path / "chart.yaml"
    f.write_text(yaml.safe_dump_all(template(helm, namespace="default")))
    r = sh(["kubectl", "apply", "--dry-run=server", "--validate=strict", "-f", str(f)], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "deployment.apps/blackfriday-operator created (server dry run)" in r.stdout
