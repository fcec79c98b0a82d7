"""The dry runs of the per-cloud scripts: every cloud command a real run executes is printed, in
order, none is run (stub cloud tools on PATH fail when called), and the commands carry the fixes
of issue 11 (firewall from node IPs, zonal node counts, node trust, default storage, amd64 images,
F5 NGINX Ingress, the plugin artifact, the teardown releasing cloud resources first)."""
import re

import pytest

from conftest import dry_run

# Private ranges we may never choose ourselves; the dry run has only placeholders where the cloud
# assigns addresses (GCP auto-mode subnets, the eksctl VPC, the Zot VM's address).
PRIVATE = re.compile(r"(?<![\d.])(10\.\d{1,3}\.\d{1,3}\.\d{1,3}|172\.(1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3})")
ALLOWED = ("gcloud", "aws", "eksctl", "kubectl", "helm", "skopeo", "oras", "docker", "curl", "env", "mkdir",
           "cp", "sed", "printf", "htpasswd", "wait until", "(write", "/")


def commands(out):
    return [line[2:] for line in out.splitlines() if line.startswith("+ ")]


def assert_in_order(cmds, patterns):
    i = 0
    for p in patterns:
        rx = re.compile(p)
        while i < len(cmds) and not rx.search(cmds[i]):
            i += 1
        assert i < len(cmds), f"expected (in order) a command matching {p!r}"
        i += 1


def common_checks(out):
    cmds = commands(out)
    assert cmds, "no commands printed"
    for c in cmds:
        assert c.startswith(ALLOWED), f"unexpected command in dry run: {c}"
    m = PRIVATE.search(out)
    assert not m, f"a private address range in the dry run: {m.group(0)}"
    builds = [c for c in cmds if c.startswith("docker buildx build")]
    assert len(builds) == 5 and all("--platform linux/amd64" in c for c in builds), "defect 6: amd64 builds"
    assert all("RUST_TARGET=x86_64-unknown-linux-musl" in c for c in builds if "Dockerfile" in c and ("rust-api" in c or "operator/" in c))
    return cmds


PLATFORM_TAIL = [
    r"^skopeo copy --all .*docker://docker\.io/library/busybox:\S+ docker://\S+/mirror/library/busybox",
    r"^skopeo copy --all .*docker://quay\.io/kubevirt/virt-operator:v1\.9\.0 docker://\S+/mirror/kubevirt/virt-operator:v1\.9\.0",
    r"^oras push .*mirror/grafana-plugins/redis-datasource:2\.2\.0 ",
    r"^docker buildx build --platform linux/amd64 .*rust-api/Dockerfile",
    r"^skopeo copy .*oci-archive:\S+/blackfriday-operator\.tar docker://\S+/blackfriday/blackfriday-operator:0\.1\.0",
    r"locust/push-catalog\.sh \S+/blackfriday/catalog:v1",
    r"^helm upgrade --install strimzi .*defaultImageRegistry=zot\.blackfriday\.internal:5000 --set defaultImageRepository=mirror/strimzi",
    r"^sed -i s#quay\.io/kubevirt/#zot\.blackfriday\.internal:5000/mirror/kubevirt/#g",
    r"^kubectl -n kubevirt patch deployment virt-operator --type merge --patch-file \S+virt-operator-placement\.json",
    r"^kubectl apply -f \S+kubevirt-cr\.yaml",
    r"^kubectl -n kubevirt wait kv kubevirt --for condition=Available",
    r"^helm upgrade --install nginx-ingress oci://ghcr\.io/nginx/charts/nginx-ingress .*controller\.image\.repository=zot\.blackfriday\.internal:5000/mirror/nginx/nginx-ingress",
    r"^helm upgrade --install grafana .*grafana-registry-values\.yaml",
    r"^kubectl apply -f \S+config/manager/namespace\.yaml",
    r"^kubectl apply -f \S+zot-pull\.secret\.yaml",
    r"^helm package \S+config/helm/blackfriday-operator",
    r"^helm push \S+blackfriday-operator-0\.1\.0\.tgz oci://\S+/blackfriday/charts",
    r"^helm upgrade --install blackfriday-operator oci://\S+/blackfriday/charts/blackfriday-operator .*image\.registry=zot\.blackfriday\.internal:5000",
    r"^kubectl apply -f \S+pipeline\.yaml",
    r"^kubectl wait bfp/blackfriday --for condition=Ready",
    r"^kubectl get bfp$",
]


def test_gke_up(stub_bin, tmp_path):
    out = dry_run("config/cloud/gke/up.sh", stub_bin, tmp_path, env_extra={"PROJECT": "demo-project"})
    cmds = common_checks(out)
    assert_in_order(cmds, [
        r"^gcloud --project demo-project services enable",
        r"^gcloud --project demo-project compute networks create blackfriday --subnet-mode auto$",
        # defect 5: the source of the Zot rule is the nodes (their tag = their primary IPs)
        r"^gcloud .* firewall-rules create blackfriday-zot-from-nodes .*--allow tcp:5000 --source-tags blackfriday-node --target-tags blackfriday-zot",
        r"^gcloud .* firewall-rules create blackfriday-zot-from-laptop .*--source-ranges \\<LAPTOP_IP\\>/32",
        r"^gcloud .* dns managed-zones create blackfriday-internal --dns-name blackfriday\.internal\. --visibility private --networks blackfriday",
        r"^gcloud .* dns record-sets create zot\.blackfriday\.internal\. --type A",
        r"zot/tls\.sh .*--dns zot\.blackfriday\.internal --ip",
        r"zot/render-cloud-init\.sh ",
        r"^gcloud .* compute instances create blackfriday-zot .*--metadata-from-file user-data=",
        r"^wait until https://",
        # defect 5: zonal cluster, so --num-nodes is the real count; nodes carry the tag
        r"^gcloud .* container clusters create blackfriday --zone us-central1-a .*--num-nodes 2 .*--tags blackfriday-node",
        r"^gcloud .* node-pools create kubevirt .*--enable-nested-virtualization --node-labels blackfriday\.dev/kubevirt=true --tags blackfriday-node",
        r"^gcloud .* get-credentials blackfriday --zone us-central1-a",
        # defect 2: node trust from the one generator on every node
        r"^kubectl apply -f \S+zot/containerd-hosts-daemonset\.yaml",
        r"^kubectl -n registry-config create configmap zot-node-trust --from-file containerd-hosts\.sh=\S+config/cloud/containerd-hosts\.sh --from-file ca\.crt=\S+ --from-literal registry=zot\.blackfriday\.internal:5000",
        r"^kubectl -n registry-config rollout status daemonset/zot-node-trust",
        *PLATFORM_TAIL,
    ])
    assert not any("--region" in c and "clusters create" in c for c in cmds)
    assert not any("clusterIpv4Cidr" in c for c in cmds), "the Pod CIDR is not the pull source"


def test_gke_down(stub_bin, tmp_path):
    out = dry_run("config/cloud/gke/down.sh", stub_bin, tmp_path, env_extra={"PROJECT": "demo-project"})
    cmds = commands(out)
    assert_in_order(cmds, [
        r"^gcloud .* get-credentials blackfriday",
        r"^kubectl delete bfp blackfriday --wait",
        r"^helm uninstall grafana",
        r"^helm uninstall nginx-ingress",
        r"^kubectl delete pvc --all-namespaces --all --wait",
        r"^kubectl wait pv --all --for=delete",
        r"^gcloud .* container clusters delete blackfriday --zone us-central1-a --quiet",
        r"^gcloud .* compute instances delete blackfriday-zot",
        r"^gcloud .* dns record-sets delete zot\.blackfriday\.internal\.",
        r"^gcloud .* dns managed-zones delete blackfriday-internal",
        r"^gcloud .* compute addresses delete blackfriday-zot-internal",
        r"^gcloud .* compute firewall-rules delete blackfriday-zot-from-nodes",
        r"^gcloud .* compute networks delete blackfriday --quiet",
    ])
    assert not PRIVATE.search(out)


@pytest.mark.parametrize("managed", [False, True], ids=["strimzi-kubevirt", "managed-data"])
def test_eks_up(stub_bin, tmp_path, managed):
    args = ["--managed-data"] if managed else []
    out = dry_run("config/cloud/eks/up.sh", stub_bin, tmp_path, *args)
    cmds = common_checks(out)
    expected = [
        r"zot/tls\.sh --out \S+ --dns zot\.blackfriday\.internal$",
        r"eks/render-cluster\.sh --ca \S+ca\.crt --zot zot\.blackfriday\.internal:5000",
        r"^eksctl create cluster -f \S+cluster\.yaml --without-nodegroup$",
        r"^aws --region us-east-1 eks describe-cluster --name blackfriday --query cluster\.resourcesVpcConfig\.vpcId",
        r"^aws .* ec2 create-security-group --group-name blackfriday-zot --vpc-id \\<VPC_ID\\>",
        r"^aws .* authorize-security-group-ingress --group-id \\<ZOT_SG\\> --protocol tcp --port 5000 --source-group \\<CLUSTER_SG\\>",
        r"^aws .* authorize-security-group-ingress --group-id \\<ZOT_SG\\> --protocol tcp --port 5000 --cidr \\<LAPTOP_IP\\>/32",
        r"^aws .* ec2 allocate-address --domain vpc",
        r"zot/tls\.sh .*--ip \\<ZOT_PUBLIC_IP\\>",
        r"^aws .* ec2 run-instances .*--subnet-id \\<PUBLIC_SUBNET\\> --security-group-ids \\<ZOT_SG\\> --user-data file://",
        r"^aws .* ec2 associate-address --allocation-id",
        r"^aws .* route53 create-hosted-zone --name blackfriday\.internal .*--vpc VPCRegion=us-east-1\\,VPCId=\\<VPC_ID\\> --hosted-zone-config PrivateZone=true",
        r"^aws .* route53 change-resource-record-sets",
        r"^wait until https://",
        r"^eksctl create nodegroup -f \S+cluster\.yaml$",
        r"^kubectl get storageclass$",
    ]
    if managed:
        expected += [
            r"^aws .* kafka create-cluster-v2 --cluster-name blackfriday-msk --provisioned file://",
            r"^aws .* elasticache create-replication-group --replication-group-id blackfriday-valkey .*--engine valkey",
            r"^aws .* kafka get-bootstrap-brokers",
            r"pipeline-managed-data\.json$",
        ]
    expected += PLATFORM_TAIL
    if managed:
        expected.insert(len(expected) - 2, r"^kubectl patch bfp blackfriday --type merge --patch-file \S+pipeline-managed-data\.json")
    assert_in_order(cmds, expected)
    nic = [c for c in cmds if c.startswith("helm upgrade --install nginx-ingress")][0]
    assert "nginx-ingress/values-aws.yaml" in nic, "the ingress Service is an AWS NLB on EKS"
    if not managed:
        assert not any("kafka create" in c or "elasticache create" in c for c in cmds)


def test_eks_down(stub_bin, tmp_path):
    out = dry_run("config/cloud/eks/down.sh", stub_bin, tmp_path)
    cmds = commands(out)
    assert_in_order(cmds, [
        r"^eksctl utils write-kubeconfig --cluster blackfriday",
        r"^kubectl delete bfp blackfriday --wait",
        r"^helm uninstall nginx-ingress",
        r"^kubectl delete pvc --all-namespaces --all --wait",
        r"^aws .* elasticache delete-replication-group --replication-group-id blackfriday-valkey",
        r"^aws .* kafka delete-cluster",
        r"^aws .* ec2 terminate-instances --instance-ids",
        r"^aws .* ec2 release-address",
        r"^aws .* ec2 delete-security-group --group-id \\<ZOT_SG\\>",
        r"^aws .* route53 delete-hosted-zone",
        r"^eksctl delete cluster --name blackfriday --region us-east-1",
    ])


def test_bad_arguments_are_refused(stub_bin, tmp_path):
    from conftest import ROOT, sh
    r = sh(["bash", str(ROOT / "config/cloud/eks/up.sh"), "--dry-run", "--bogus"], check=False)
    assert r.returncode != 0 and "--bogus" in r.stderr
