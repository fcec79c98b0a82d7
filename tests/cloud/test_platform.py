"""The platform installs (config/platform) as a cluster would receive them: every image from the
Zot mirror and on the mirror list (defect 2), KubeVirt's placement fit for managed workers
(defect 1), F5 NGINX Ingress the default and ingress-nginx the option (defect 7), the Grafana
plugin from Zot as an OCI artifact, not from the internet (defect 7)."""
import json
import re

import pytest
import yaml

from conftest import ROOT, dry_run, sh

REGISTRY = "zot.blackfriday.internal:5000/mirror"


def mirror_list():
    out = sh(["bash", "-c", f". {ROOT}/config/platform/versions.sh; printf '%s\\n' \"${{MIRROR_IMAGES[@]}}\""]).stdout
    return set(out.split())


def mirrored(ref):
    """zot.../mirror/<path>:<tag> -> is <anything>/<path>:<tag> on the mirror list?"""
    assert ref.startswith(REGISTRY + "/"), f"{ref} is not pulled from the Zot mirror"
    path = ref[len(REGISTRY) + 1:]
    return any(img.split("/", 1)[1] == path for img in mirror_list())


@pytest.fixture(scope="module")
def platform_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("platform")
    stub = tmp / "bin"
    stub.mkdir()
    calls = tmp / "calls"
    for t in ["kubectl", "helm", "curl", "skopeo", "oras"]:
        (stub / t).write_text(f"#!/bin/sh\necho {t} >> {calls}\nexit 99\n")
        (stub / t).chmod(0o755)
    work = tmp / "work"
    ca = tmp / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
    out = dry_run("config/platform/install-all.sh", (stub, calls), tmp, env_extra={
        "REGISTRY": REGISTRY, "ZOT_CA_FILE": str(ca), "CLOUD": "eks", "PLATFORM_WORK": str(work), "WITH_CDI": "true"})
    return out, work


def test_every_chart_image_is_mirrored(platform_run):
    out, work = platform_run
    cmds = [line[2:] for line in out.splitlines() if line.startswith("+ ")]
    nic = [c for c in cmds if c.startswith("helm upgrade --install nginx-ingress")][0]
    repo = re.search(r"controller\.image\.repository=(\S+)", nic).group(1)
    tag = re.search(r"controller\.image\.tag=(\S+)", nic).group(1)
    assert mirrored(f"{repo}:{tag}")
    strimzi = [c for c in cmds if c.startswith("helm upgrade --install strimzi")][0]
    reg = re.search(r"defaultImageRegistry=(\S+)", strimzi).group(1)
    rep = re.search(r"defaultImageRepository=(\S+)", strimzi).group(1)
    versions = sh(["bash", "-c", f". {ROOT}/config/platform/versions.sh; echo $STRIMZI_VERSION $KAFKA_VERSION"]).stdout.split()
    assert mirrored(f"{reg}/{rep}/operator:{versions[0]}")
    assert mirrored(f"{reg}/{rep}/kafka:{versions[0]}-kafka-{versions[1]}")
    # KubeVirt and CDI: every quay.io/kubevirt image of the manifests is rewritten to the mirror
    seds = [c for c in cmds if c.startswith("sed -i s#quay.io/kubevirt/#")]
    assert len(seds) == 2 and all(f"#{REGISTRY}/kubevirt/#g" in c for c in seds)
    kv = [c for c in cmds if "patch kubevirt kubevirt" in c and "imageRegistry" in c][0]
    assert f'{REGISTRY}/kubevirt' in kv.replace("\\", "")
    for component in ["virt-operator", "virt-api", "virt-controller", "virt-handler", "virt-launcher", "cdi-importer"]:
        assert any(f"/kubevirt/{component}:" in i for i in mirror_list()), component
    # Grafana: the rendered overlay names every image it pulls
    overlay = yaml.safe_load((work / "grafana-registry-values.yaml").read_text())
    refs = [f'{overlay[k]["image"]["registry"]}/{overlay[k]["image"]["repository"]}:{overlay[k]["image"]["tag"]}'
            for k in ["sidecar", "initChownData"]]
    refs.append(f'{overlay["image"]["registry"]}/{overlay["image"]["repository"]}:{overlay["image"]["tag"]}')
    refs += [c["image"] for c in overlay["extraInitContainers"]]
    assert any("busybox" in r for r in refs) and any("k8s-sidecar" in r for r in refs)
    for r in refs:
        assert mirrored(r), f"Grafana pulls {r}, which mirror-images.sh does not copy"


def test_grafana_plugin_from_zot_not_internet(platform_run):
    out, work = platform_run
    overlay = yaml.safe_load((work / "grafana-registry-values.yaml").read_text())
    base = yaml.safe_load((ROOT / "config/platform/grafana/values.yaml").read_text())
    assert base["plugins"] == [] and "plugins" not in overlay, "no plugin download from grafana.com"
    pull = overlay["extraInitContainers"][0]
    artifact = sh(["bash", "-c", f". {ROOT}/config/platform/versions.sh; echo $REDIS_DATASOURCE_ARTIFACT"]).stdout.strip()
    assert pull["args"][0] == "pull" and pull["args"][-1] == f"zot.blackfriday.internal:5000/{artifact}"
    assert "--ca-file" in pull["args"]
    assert artifact.startswith("mirror/"), "anonymous read: the init container has no credentials"
    # the same artifact is what mirror-images.sh pushes
    assert "$ZOT/$REDIS_DATASOURCE_ARTIFACT" in (ROOT / "config/cloud/zot/mirror-images.sh").read_text()
    unzip = overlay["extraInitContainers"][1]
    assert "plugin.json" in unzip["command"][-1]
    assert {"name": "zot-ca", "configMap": {"name": "zot-ca"}} in overlay["extraContainerVolumes"]
    cmds = [line[2:] for line in out.splitlines() if line.startswith("+ ")]
    assert any(c.startswith("kubectl -n grafana create configmap zot-ca --from-file ca.crt=") for c in cmds)


def test_ingress_default_is_f5_nginx_and_ingress_nginx_optional(platform_run, tmp_path, stub_bin):
    out, _ = platform_run
    assert "helm upgrade --install nginx-ingress oci://ghcr.io/nginx/charts/nginx-ingress" in out
    assert "ingress-nginx" not in out.replace("nginx-ingress", "")
    values = yaml.safe_load((ROOT / "config/platform/nginx-ingress/values.yaml").read_text())
    assert values["controller"]["ingressClass"] == {"name": "nginx", "create": True, "setAsDefaultIngress": True}
    aws = yaml.safe_load((ROOT / "config/platform/nginx-ingress/values-aws.yaml").read_text())
    assert aws["controller"]["service"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    # the option: ingress-nginx, without the admission webhook (no kube-webhook-certgen image)
    opt = dry_run("config/platform/install-all.sh", stub_bin, tmp_path,
                  env_extra={"REGISTRY": REGISTRY, "ZOT_CA_FILE": "/etc/hostname", "INGRESS": "ingress-nginx",
                             "PLATFORM_WORK": str(tmp_path / "w")})
    line = [c for c in opt.splitlines() if c.startswith("+ helm upgrade --install ingress-nginx")][0]
    assert "controller.admissionWebhooks.enabled=false" in line
    image = re.search(r"controller\.image\.image=(\S+)", line).group(1)
    tag = re.search(r"controller\.image\.tag=(\S+)", line).group(1)
    host = re.search(r"controller\.image\.registry=(\S+)", line).group(1)
    assert mirrored(f"{host}/{image}:{tag}")
    assert "nginx-ingress oci://" not in opt


def test_kubevirt_placement_for_managed_workers():
    cr = yaml.safe_load((ROOT / "config/platform/kubevirt/kubevirt-cr.yaml").read_text())
    assert cr["apiVersion"] == "kubevirt.io/v1" and cr["kind"] == "KubeVirt"
    infra = cr["spec"]["infra"]["nodePlacement"]
    # non-nil nodePlacement replaces KubeVirt's RequireControlPlanePreferNonWorker default
    assert infra, "spec.infra.nodePlacement must be set"
    text = json.dumps(cr["spec"])
    assert "control-plane" not in text and "master" not in text
    assert set(infra) <= {"nodeSelector", "affinity", "tolerations"}
    workloads = cr["spec"]["workloads"]["nodePlacement"]["nodeSelector"]
    assert workloads["blackfriday.dev/kubevirt"] == "true"
    # the label the workloads select is the one both clouds put on their virtualization pool
    assert "--node-labels blackfriday.dev/kubevirt=true" in (ROOT / "config/cloud/gke/up.sh").read_text()
    eks = yaml.safe_load((ROOT / "config/cloud/eks/cluster.yaml").read_text().replace("@GENERAL_NODES@", "1").replace("@KUBEVIRT_NODES@", "1"))
    assert [g for g in eks["managedNodeGroups"] if g["name"] == "kubevirt"][0]["labels"]["blackfriday.dev/kubevirt"] == "true"
    patch = json.loads((ROOT / "config/platform/kubevirt/virt-operator-placement.json").read_text())
    spec = patch["spec"]["template"]["spec"]
    assert spec["affinity"]["nodeAffinity"] is None
    assert spec["nodeSelector"]["node-role.kubernetes.io/control-plane"] is None
    assert spec["nodeSelector"]["node-role.kubernetes.io/master"] is None


def test_grafana_is_cluster_internal_with_its_password_in_a_secret(platform_run):
    out, _ = platform_run
    values = yaml.safe_load((ROOT / "config/platform/grafana/values.yaml").read_text())
    assert values["service"]["type"] == "ClusterIP", "Grafana is reached by kubectl port-forward only"
    assert values["admin"]["existingSecret"] == "grafana-admin"
    assert "adminPassword" not in values, "a password in the values lands in Helm's release Secret"
    cmds = [line[2:] for line in out.splitlines() if line.startswith("+ ")]
    # the dry run assumes nothing exists (DRY_RUN_ASSUME=absent), so the creation is printed:
    # the password comes from a file, never as a literal on the printed command line
    create = [c for c in cmds if "create secret generic grafana-admin" in c]
    assert len(create) == 1, cmds
    assert "--from-file=admin-password=" in create[0] and "--from-literal=admin-password" not in create[0]
    helm = [c for c in cmds if c.startswith("helm upgrade --install grafana")][0]
    assert "adminPassword" not in helm
