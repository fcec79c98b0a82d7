"""Smoke tests for the real Kubernetes bench (scripts/testbed/k8s.sh start).

Proves the control plane is real: a kube-apiserver with RBAC, the Strimzi and KubeVirt CRDs
with structural schemas and strict field validation, and a kube-controller-manager whose
garbage collector, namespace, deployment and replicaset controllers work.

Reads KUBECONFIG / KUBECONFIG_OPERATOR from the environment or from <repo>/.testbed/env (through the
`bench` fixture of conftest.py).
"""
import base64
import json
import os
import re
import tempfile
import uuid

import pytest
import requests
import yaml

from conftest import wait_for

MANAGER = "bench-smoke"
OP_USER = "system:serviceaccount:blackfriday-system:blackfriday-operator"
GC_TIMEOUT = 75  # the garbage collector re-reads discovery every 30 s


class Client:
    def __init__(self, kubeconfig):
        with open(kubeconfig) as f:
            cfg = yaml.safe_load(f)
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == cfg["current-context"])
        cluster = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"].rstrip("/")
        ca = tempfile.NamedTemporaryFile("wb", suffix=".crt", delete=False)
        ca.write(base64.b64decode(cluster["certificate-authority-data"]))
        ca.close()
        self.ca = ca.name
        self.s = requests.Session()
        self.s.headers["Authorization"] = "Bearer " + user["token"]
        self.s.headers["Accept"] = "application/json"

    def req(self, method, path, body=None, ctype="application/json", **params):
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": ctype} if data is not None else {}
        # verify= on every call: a session-level verify loses against REQUESTS_CA_BUNDLE
        return self.s.request(method, self.server + path, data=data, headers=headers,
                              params=params, timeout=30, verify=self.ca)

    def get(self, path, **params):
        return self.req("GET", path, **params)

    def create(self, path, obj, validation="Strict"):
        return self.req("POST", path, obj, fieldValidation=validation, fieldManager=MANAGER)

    def apply(self, path, obj, validation="Strict"):
        """Server-side apply to <path>/<name>, as the operator does."""
        return self.req("PATCH", f"{path}/{obj['metadata']['name']}", obj,
                        "application/apply-patch+yaml", fieldValidation=validation,
                        fieldManager=MANAGER, force="true")

    def delete(self, path, **params):
        return self.req("DELETE", path, **params)


def ok(r, *codes):
    codes = codes or (200, 201)
    assert r.status_code in codes, f"{r.request.method} {r.url}: HTTP {r.status_code}: {r.text[:1500]}"
    return r.json() if r.text else None


def wait_until(what, fn, timeout):
    # the shared poll loop of the bench tests, at a gentler interval: the apiserver's controllers
    # work on seconds, not milliseconds
    return wait_for(what, fn, timeout=timeout, interval=0.5)


def _kubeconfig(bench, key):
    path = bench.need(key, "k8s")
    if not os.path.exists(path):
        pytest.fail(f"{key}={path} does not exist: is the bench up? (scripts/testbed/k8s.sh start)")
    return path


@pytest.fixture(scope="module")
def admin(bench):
    return Client(_kubeconfig(bench, "KUBECONFIG"))


@pytest.fixture(scope="module")
def operator(bench):
    return Client(_kubeconfig(bench, "KUBECONFIG_OPERATOR"))


@pytest.fixture
def ns(admin):
    name = "smoke-" + uuid.uuid4().hex[:8]
    ok(admin.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": name}}))
    yield name
    admin.delete(f"/api/v1/namespaces/{name}")


def strimzi(ns, kind, plural):
    return f"/apis/kafka.strimzi.io/v1/namespaces/{ns}/{plural}"


def kafka_objects(cluster="bench"):
    pool = {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaNodePool",
        "metadata": {"name": "dual-role", "labels": {"strimzi.io/cluster": cluster}},
        "spec": {"replicas": 1, "roles": ["controller", "broker"],
                 "storage": {"type": "jbod", "volumes": [
                     {"id": 0, "type": "persistent-claim", "size": "1Gi", "kraftMetadata": "shared",
                      "deleteClaim": True}]}},
    }
    kafka = {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka",
        "metadata": {"name": cluster},
        "spec": {
            "kafka": {
                "version": "4.3.1", "metadataVersion": "4.3-IV0",
                "listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}],
                "config": {"offsets.topic.replication.factor": 1,
                           "transaction.state.log.replication.factor": 1,
                           "transaction.state.log.min.isr": 1,
                           "default.replication.factor": 1, "min.insync.replicas": 1},
            },
            "entityOperator": {"topicOperator": {}},
        },
    }
    topic = {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaTopic",
        "metadata": {"name": "ventas", "labels": {"strimzi.io/cluster": cluster}},
        "spec": {"partitions": 3, "replicas": 1, "config": {"retention.ms": 7200000}},
    }
    return kafka, pool, topic


def kafka_user(cluster="bench"):
    """A KafkaUser as the operator renders one (docs/kafka-auth.md): SCRAM-SHA-512, topic ACLs."""
    return {
        "apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
        "metadata": {"name": "grpc-server-1", "labels": {"strimzi.io/cluster": cluster}},
        "spec": {"authentication": {"type": "scram-sha-512"},
                 "authorization": {"type": "simple", "acls": [
                     {"type": "allow", "host": "*", "operations": ["Write", "Describe"],
                      "resource": {"type": "topic", "name": "ventas", "patternType": "literal"}}]}},
    }


def test_kafka_user_applies_with_strict_validation(admin, ns):
    user = kafka_user()
    got = ok(admin.apply(strimzi(ns, "KafkaUser", "kafkausers"), user))
    assert got["spec"]["authorization"]["acls"][0]["operations"] == ["Write", "Describe"]
    ok(admin.get(strimzi(ns, "KafkaUser", "kafkausers") + "/grpc-server-1/status"))


def vm_object(name="valkey-primary"):
    return {
        "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "valkey"}},
        "spec": {
            "runStrategy": "Always",
            "dataVolumeTemplates": [{
                "metadata": {"name": name + "-data"},
                "spec": {"source": {"blank": {}},
                         "storage": {"resources": {"requests": {"storage": "2Gi"}}}},
            }],
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "valkey", "valkey.example/role": "primary"}},
                "spec": {
                    "domain": {
                        "cpu": {"cores": 1},
                        "resources": {"requests": {"memory": "1Gi"}},
                        "devices": {
                            "disks": [{"name": "root", "disk": {"bus": "virtio"}},
                                      {"name": "data", "disk": {"bus": "virtio"}, "serial": "valkeydata"},
                                      {"name": "cloudinit", "disk": {"bus": "virtio"}}],
                            "interfaces": [{"name": "default", "masquerade": {}}],
                            "rng": {},
                        },
                    },
                    "networks": [{"name": "default", "pod": {}}],
                    "readinessProbe": {"tcpSocket": {"port": 6379}, "initialDelaySeconds": 10,
                                       "periodSeconds": 5},
                    "evictionStrategy": "None",
                    "terminationGracePeriodSeconds": 30,
                    "volumes": [
                        {"name": "root", "containerDisk": {"image": "127.0.0.1:15000/vm/debian:13",
                                                           "imagePullSecret": "zot-pull"}},
                        {"name": "data", "dataVolume": {"name": name + "-data"}},
                        {"name": "cloudinit", "cloudInitNoCloud": {"secretRef": {"name": name + "-cloudinit"}}},
                    ],
                },
            },
        },
    }


def vms(ns):
    return f"/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachines"


# ---------------------------------------------------------------------------------------------

def test_apiserver_is_real_and_ready(admin, repo_root):
    assert admin.get("/readyz").status_code == 200
    version = ok(admin.get("/version"))
    # the binary built from tools/k8s/go.mod's k8s.io/kubernetes version (build.sh stamps it in)
    with open(os.path.join(repo_root, "tools", "k8s", "go.mod")) as f:
        want = re.search(r"^\s*k8s\.io/kubernetes (v[^\s]+)", f.read(), re.M).group(1)
    assert version["gitVersion"] == want, version
    assert version["platform"] == "linux/amd64" or version["platform"].startswith("linux/")
    # the bootstrap RBAC roles exist: RBAC post-start hooks ran
    ok(admin.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin"))


def test_anonymous_requests_are_refused(admin):
    r = requests.get(admin.server + "/api/v1/namespaces", verify=admin.ca, timeout=10)
    assert r.status_code in (401, 403), r.text


def test_foreign_crds_are_established(admin):
    for name in ("kafkas.kafka.strimzi.io", "kafkanodepools.kafka.strimzi.io",
                 "kafkatopics.kafka.strimzi.io", "kafkausers.kafka.strimzi.io", "virtualmachines.kubevirt.io",
                 "virtualmachineinstances.kubevirt.io"):
        crd = ok(admin.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"))
        conds = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conds.get("Established") == "True", (name, conds)
        # a structural schema: the apiserver reports no NonStructuralSchema condition
        assert "NonStructuralSchema" not in conds, (name, crd["status"]["conditions"])
    vm = ok(admin.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io"))
    version = vm["spec"]["versions"][0]
    assert vm["spec"]["scope"] == "Namespaced" and version["name"] == "v1"
    assert "status" in version["subresources"]
    spec_schema = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert not spec_schema.get("x-kubernetes-preserve-unknown-fields"), "spec must be typed, not preserved"
    assert "domain" in spec_schema["properties"]["template"]["properties"]["spec"]["properties"]


def test_strimzi_resources_apply_with_strict_validation(admin, ns):
    kafka, pool, topic = kafka_objects()
    for obj, plural in ((pool, "kafkanodepools"), (kafka, "kafkas"), (topic, "kafkatopics")):
        got = ok(admin.apply(strimzi(ns, obj["kind"], plural), obj))
        assert got["kind"] == obj["kind"] and got["metadata"]["namespace"] == ns
    got = ok(admin.get(strimzi(ns, "Kafka", "kafkas") + "/bench"))
    assert got["spec"]["kafka"]["listeners"][0]["name"] == "plain"
    got = ok(admin.get(strimzi(ns, "KafkaTopic", "kafkatopics") + "/ventas"))
    assert got["spec"]["partitions"] == 3
    # the status subresource exists (the operator reads Strimzi's Ready condition from there)
    ok(admin.get(strimzi(ns, "Kafka", "kafkas") + "/bench/status"))


def test_virtualmachine_applies_with_strict_validation(admin, ns):
    vm = vm_object()
    got = ok(admin.apply(vms(ns), vm))
    assert got["spec"]["runStrategy"] == "Always"
    tmpl = got["spec"]["template"]
    assert tmpl["metadata"]["labels"]["valkey.example/role"] == "primary"
    assert tmpl["spec"]["domain"]["devices"]["interfaces"][0]["masquerade"] == {}
    assert tmpl["spec"]["domain"]["resources"]["requests"]["memory"] == "1Gi"
    # status subresource: a controller (KubeVirt, or a test standing in for it) can write status
    got["status"] = {"ready": True, "printableStatus": "Running",
                     "conditions": [{"type": "Ready", "status": "True"}]}
    st = ok(admin.req("PUT", f"{vms(ns)}/{vm['metadata']['name']}/status", got))
    assert st["status"]["ready"] is True
    # and the VMI kind the operator reads readiness from
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
           "metadata": {"name": vm["metadata"]["name"]},
           "spec": tmpl["spec"]}
    ok(admin.apply(f"/apis/kubevirt.io/v1/namespaces/{ns}/virtualmachineinstances", vmi))


@pytest.mark.parametrize("case", [
    "kafka-leftover-replicas", "nodepool-unknown-field", "topic-unknown-field",
    "user-acl-singular-operation", "vm-unknown-deep-field", "vm-unknown-template-spec-field"])
@pytest.mark.parametrize("verb", ["apply", "create"])
def test_unknown_fields_are_rejected(admin, ns, case, verb):
    kafka, pool, topic = kafka_objects()
    vm = vm_object("bad-vm")
    if case == "kafka-leftover-replicas":  # spec.kafka.replicas was removed in kafka.strimzi.io/v1
        kafka["spec"]["kafka"]["replicas"] = 3
        obj, path, field = kafka, strimzi(ns, "Kafka", "kafkas"), "replicas"
    elif case == "nodepool-unknown-field":
        pool["spec"]["storage"]["volumes"][0]["sizee"] = "1Gi"
        obj, path, field = pool, strimzi(ns, "KafkaNodePool", "kafkanodepools"), "sizee"
    elif case == "topic-unknown-field":
        topic["spec"]["partition"] = 3
        obj, path, field = topic, strimzi(ns, "KafkaTopic", "kafkatopics"), "partition"
    elif case == "user-acl-singular-operation":  # v1beta2's `operation` is gone in v1: `operations`
        user = kafka_user()
        user["spec"]["authorization"]["acls"][0]["operation"] = "Write"
        obj, path, field = user, strimzi(ns, "KafkaUser", "kafkausers"), "operation"
    elif case == "vm-unknown-deep-field":
        vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]["disk"]["buss"] = "virtio"
        obj, path, field = vm, vms(ns), "buss"
    else:
        vm["spec"]["template"]["spec"]["readinessProbe"]["tcpSockett"] = {"port": 1}
        obj, path, field = vm, vms(ns), "tcpSockett"
    if verb == "apply":
        # Server-side apply refuses unknown fields whatever fieldValidation says, and kube-apiserver
        # 1.36 answers HTTP 500 "failed to create typed patch object ... field not declared in
        # schema" (a permanent error despite the 5xx: the operator must not retry it as transient).
        r = admin.apply(path, obj)
        assert r.status_code in (400, 422, 500), f"{case}: HTTP {r.status_code}: {r.text[:500]}"
        assert "field not declared in schema" in r.text, r.text[:1000]
    else:
        r = admin.create(path, obj)
        assert r.status_code == 400, f"{case}: HTTP {r.status_code}: {r.text[:500]}"
        assert "strict decoding error" in r.text, r.text[:1000]
    assert field in r.text, r.text[:1000]
    assert admin.get(f"{path}/{obj['metadata']['name']}").status_code == 404


def test_unknown_fields_are_pruned_without_strict(admin, ns):
    """The schemas are structural: with validation off, unknown fields are dropped, not stored."""
    vm = vm_object("pruned-vm")
    vm["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]["disk"]["buss"] = "virtio"
    got = ok(admin.create(vms(ns), vm, validation="Ignore"))
    assert got["spec"]["template"]["spec"]["domain"]["devices"]["disks"][0]["disk"] == {"bus": "virtio"}


@pytest.mark.parametrize("case", ["nodepool-replicas-type", "nodepool-role-enum", "user-auth-enum",
                                  "vm-cores-type", "vm-bad-quantity", "vm-missing-domain"])
def test_schema_violations_are_rejected(admin, ns, case):
    kafka, pool, topic = kafka_objects()
    vm = vm_object("bad-vm")
    tspec = vm["spec"]["template"]["spec"]
    if case == "nodepool-replicas-type":
        pool["spec"]["replicas"] = "one"
        obj, path = pool, strimzi(ns, "KafkaNodePool", "kafkanodepools")
    elif case == "nodepool-role-enum":
        pool["spec"]["roles"] = ["zookeeper"]
        obj, path = pool, strimzi(ns, "KafkaNodePool", "kafkanodepools")
    elif case == "user-auth-enum":  # KafkaUser authentication is scram-sha-512, tls or tls-external
        obj = kafka_user()
        obj["spec"]["authentication"]["type"] = "scram-sha-256"
        path = strimzi(ns, "KafkaUser", "kafkausers")
    elif case == "vm-cores-type":
        tspec["domain"]["cpu"]["cores"] = "two"
        obj, path = vm, vms(ns)
    elif case == "vm-bad-quantity":
        tspec["domain"]["resources"]["requests"]["memory"] = "lots"
        obj, path = vm, vms(ns)
    else:
        del tspec["domain"]
        obj, path = vm, vms(ns)
    r = admin.create(path, obj)
    assert r.status_code == 422, f"{case}: HTTP {r.status_code}: {r.text[:500]}"


def test_operator_identity_is_subject_to_rbac(admin, operator, ns):
    # the operator token is authenticated as the operator's ServiceAccount ...
    review = ok(operator.create("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}))
    assert review["status"]["userInfo"]["username"] == OP_USER
    assert "system:serviceaccounts" in review["status"]["userInfo"]["groups"]
    # ... which has been granted nothing: RBAC is on
    cm_path = f"/api/v1/namespaces/{ns}/configmaps"
    assert operator.get(cm_path).status_code == 403
    assert operator.get("/api/v1/namespaces").status_code == 403
    assert operator.create(cm_path, {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "x"}}).status_code == 403
    # grant configmap read in this namespace only, as the operator's Helm chart/manifests would
    ok(admin.create(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "read-cm"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}))
    ok(admin.create(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "read-cm"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-cm"},
        "subjects": [{"kind": "ServiceAccount", "name": "blackfriday-operator",
                      "namespace": "blackfriday-system"}]}))
    wait_until("the RoleBinding to take effect", lambda: operator.get(cm_path).status_code == 200, 20)
    # still only what was granted
    assert operator.create(cm_path, {"apiVersion": "v1", "kind": "ConfigMap",
                                     "metadata": {"name": "x"}}).status_code == 403
    assert operator.get("/api/v1/namespaces/default/configmaps").status_code == 403


def _configmap(name, owner=None, data=None):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {"k": "v"}}
    if owner:
        cm["metadata"]["ownerReferences"] = [owner]
    return cm


def _owner_ref(obj):
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def test_garbage_collector_deletes_dependents(admin, ns):
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    # 1) a namespaced core owner
    owner = ok(admin.create(cms, _configmap("owner")))
    ok(admin.create(cms, _configmap("child-of-cm", _owner_ref(owner))))
    # 2) a custom-resource owner (a Strimzi KafkaTopic): CRD kinds must be known to the GC
    topic = kafka_objects()[2]
    topic_obj = ok(admin.apply(strimzi(ns, "KafkaTopic", "kafkatopics"), topic))
    ok(admin.create(cms, _configmap("child-of-topic", _owner_ref(topic_obj))))
    # 3) a cluster-scoped owner of a namespaced dependent, like the BlackFridayPipeline
    cr_name = ns + "-owner"
    crole = ok(admin.create("/apis/rbac.authorization.k8s.io/v1/clusterroles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": cr_name}, "rules": []}))
    crole["apiVersion"], crole["kind"] = "rbac.authorization.k8s.io/v1", "ClusterRole"
    ok(admin.create(cms, _configmap("child-of-clusterrole", _owner_ref(crole))))
    # a ConfigMap with no owner must survive
    ok(admin.create(cms, _configmap("orphan")))

    ok(admin.delete(f"{cms}/owner"))
    ok(admin.delete(f"{strimzi(ns, 'KafkaTopic', 'kafkatopics')}/ventas"))
    ok(admin.delete(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{cr_name}"))

    def gone():
        names = {c["metadata"]["name"] for c in ok(admin.get(cms))["items"]}
        left = names & {"child-of-cm", "child-of-topic", "child-of-clusterrole"}
        return not left or None

    wait_until("the garbage collector to delete the dependents", gone, GC_TIMEOUT)
    ok(admin.get(f"{cms}/orphan"))


def test_deployment_controller_creates_replicaset(admin, ns):
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
           "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}},
                                 "spec": {"containers": [{"name": "c", "image": "127.0.0.1:15000/x:1"}]}}}}
    ok(admin.apply(f"/apis/apps/v1/namespaces/{ns}/deployments", dep))

    def rs():
        items = ok(admin.get(f"/apis/apps/v1/namespaces/{ns}/replicasets"))["items"]
        return [r for r in items if any(o["kind"] == "Deployment" and o["name"] == "web"
                                        for o in r["metadata"].get("ownerReferences", []))]

    wait_until("a ReplicaSet owned by the Deployment", rs, 30)


def _pvc(name):
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}


def test_pvc_protection_finalizer_is_released(admin, ns):
    pvcs = f"/api/v1/namespaces/{ns}/persistentvolumeclaims"
    got = ok(admin.create(pvcs, _pvc("data")))
    # the admission plugin adds the finalizer; the pvc-protection controller must remove it on delete
    assert "kubernetes.io/pvc-protection" in got["metadata"].get("finalizers", []), got["metadata"]
    ok(admin.delete(f"{pvcs}/data"))
    wait_until("the pvc-protection controller to release the deleted PVC",
               lambda: admin.get(f"{pvcs}/data").status_code == 404, 30)


def test_namespace_deletion_completes(admin):
    name = "smoke-del-" + uuid.uuid4().hex[:8]
    ok(admin.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    ok(admin.create(f"/api/v1/namespaces/{name}/configmaps", _configmap("c")))
    ok(admin.create(f"/api/v1/namespaces/{name}/persistentvolumeclaims", _pvc("data")))
    ok(admin.apply(strimzi(name, "KafkaTopic", "kafkatopics"), kafka_objects()[2]))
    ok(admin.delete(f"/api/v1/namespaces/{name}"))
    wait_until("the namespace controller to finish deleting the namespace",
               lambda: admin.get(f"/api/v1/namespaces/{name}").status_code == 404, 60)
