//! Valkey in KubeVirt VirtualMachines: VM 0 is the primary, the others replicate it. Each VM has
//! a persistent data disk (a PVC; the append-only file lives there), boots from a disk image in
//! Zot, uses masquerade networking so Services and probes reach it, and is `runStrategy: Always`.
//! Services: `valkey-primary` (writes) and `valkey-read` (every VM; Grafana reads there).
//! With `valkey.mode: external` none of this exists: the programs use the given addresses.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, Secret, Service, ServicePort, ServiceSpec,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::ByteString;
use serde_json::json;

use super::valkey_cloud_init::{cloud_init_user_data, AUTH_SERIAL, DATA_SERIAL};
use super::{config_hash, meta, Child};
use crate::crd::ValkeyDiskSource;
use crate::kinds::ChildKind;
use crate::names;
use crate::validate::ValidPipeline;

fn role(index: i32) -> &'static str {
    if index == 0 {
        "primary"
    } else {
        "replica"
    }
}

fn vm_labels(p: &ValidPipeline, index: i32) -> BTreeMap<String, String> {
    let mut labels = names::component_labels(&p.name, names::VALKEY);
    labels.insert(names::LABEL_VALKEY_ROLE.into(), role(index).into());
    labels
}

pub fn persistent_volume_claims(p: &ValidPipeline) -> Vec<Child> {
    if !p.valkey_managed() {
        return vec![];
    }
    let storage = &p.spec.valkey.storage;
    (0..p.spec.valkey.replicas)
        .map(|index| {
            let pvc = PersistentVolumeClaim {
                metadata: meta(
                    p,
                    p.ns_valkey(),
                    &names::valkey_data_pvc(index),
                    names::VALKEY,
                ),
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    // Filesystem mode: KubeVirt creates disk.img inside and the guest formats it.
                    volume_mode: Some("Filesystem".into()),
                    storage_class_name: storage.storage_class_name.clone(),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([(
                            "storage".into(),
                            Quantity(storage.size.clone()),
                        )])),
                        limits: None,
                    }),
                    ..Default::default()
                }),
                status: None,
            };
            Child::new(ChildKind::PersistentVolumeClaim, &pvc)
        })
        .collect()
}

pub fn services(p: &ValidPipeline) -> Vec<Child> {
    if !p.valkey_managed() {
        return vec![];
    }
    let service = |name: &str, role: Option<&str>| {
        let mut selector = names::selector_labels(&p.name, names::VALKEY);
        if let Some(role) = role {
            selector.insert(names::LABEL_VALKEY_ROLE.into(), role.into());
        }
        let svc = Service {
            metadata: meta(p, p.ns_valkey(), name, names::VALKEY),
            spec: Some(ServiceSpec {
                selector: Some(selector),
                ports: Some(vec![ServicePort {
                    name: Some("valkey".into()),
                    port: names::VALKEY_PORT,
                    target_port: Some(IntOrString::Int(names::VALKEY_PORT)),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            status: None,
        };
        Child::new(ChildKind::Service, &svc)
    };
    vec![
        service(names::VALKEY_PRIMARY_SERVICE, Some("primary")),
        service(names::VALKEY_READ_SERVICE, None),
    ]
}

/// One Secret per VM with its cloud-init user-data. KubeVirt refuses inline `userData` over
/// 2048 bytes (vmi-create-admitter.go, validateVolumes, cloudInitUserMaxLen) and ours is larger,
/// so the VM names it through `cloudInitNoCloud.userDataSecretRef`. It holds no password (that
/// comes from the auth disk), only what `render` shows too.
pub fn cloud_init_secrets(p: &ValidPipeline) -> Vec<Child> {
    if !p.valkey_managed() {
        return vec![];
    }
    (0..p.spec.valkey.replicas)
        .map(|index| {
            let secret = Secret {
                metadata: meta(
                    p,
                    p.ns_valkey(),
                    &names::valkey_cloud_init_secret(index),
                    names::VALKEY,
                ),
                type_: Some("Opaque".into()),
                data: Some(BTreeMap::from([(
                    names::CLOUD_INIT_USER_DATA_KEY.to_string(),
                    ByteString(cloud_init_user_data(p, index).into_bytes()),
                )])),
                ..Default::default()
            };
            Child::new(ChildKind::Secret, &secret)
        })
        .collect()
}

pub fn virtual_machines(p: &ValidPipeline) -> Vec<Child> {
    if !p.valkey_managed() {
        return vec![];
    }
    (0..p.spec.valkey.replicas)
        .map(|index| virtual_machine(p, index))
        .collect()
}

fn virtual_machine(p: &ValidPipeline, index: i32) -> Child {
    let valkey = &p.spec.valkey;
    let name = names::valkey_vm(index);
    let user_data = cloud_init_user_data(p, index);
    let pull_secret = p
        .spec
        .registry
        .pull_secret
        .as_ref()
        .map(|_| names::PULL_SECRET);

    let (root_volume, data_volume_templates) = match valkey.disk.source {
        ValkeyDiskSource::ContainerDisk => {
            let mut container_disk = json!({
                "image": p.images.valkey_disk,
                "imagePullPolicy": p.spec.registry.pull_policy.as_str()
            });
            if let Some(secret) = pull_secret {
                container_disk["imagePullSecret"] = json!(secret);
            }
            (
                json!({"name": "root", "containerDisk": container_disk}),
                None,
            )
        }
        ValkeyDiskSource::DataVolume => {
            let dv = names::valkey_root_dv(index);
            let template = json!({
                "metadata": {"name": dv, "labels": vm_labels(p, index)},
                "spec": {
                    // Imported once from Zot through the node's container runtime (its pull
                    // credentials), then the VM boots from the PVC.
                    "source": {"registry": {"url": format!("docker://{}", p.images.valkey_disk), "pullMethod": "node"}},
                    "storage": {"resources": {"requests": {"storage": valkey.disk.size}}}
                }
            });
            (
                json!({"name": "root", "dataVolume": {"name": dv}}),
                Some(vec![template]),
            )
        }
    };

    let template_hash = config_hash(&[&user_data, &p.images.valkey_disk]);
    let mut template_meta = json!({"labels": vm_labels(p, index)});
    template_meta["annotations"] = json!({names::ANNOTATION_CONFIG_HASH: template_hash});

    let mut spec = json!({
        "runStrategy": "Always",
        "template": {
            "metadata": template_meta,
            "spec": {
                "domain": {
                    "cpu": {"cores": valkey.cpu_cores},
                    "memory": {"guest": valkey.memory},
                    "devices": {
                        "disks": [
                            {"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1},
                            {"name": "data", "disk": {"bus": "virtio"}, "serial": DATA_SERIAL},
                            {"name": "auth", "disk": {"bus": "virtio"}, "serial": AUTH_SERIAL},
                            {"name": "cloudinit", "disk": {"bus": "virtio"}}
                        ],
                        // Masquerade: the VM sits behind the pod IP, so Services and TCP probes work.
                        "interfaces": [{"name": "default", "masquerade": {}}],
                        "rng": {}
                    }
                },
                "networks": [{"name": "default", "pod": {}}],
                // containerDisk + RWO PVC cannot live-migrate.
                "evictionStrategy": "None",
                "terminationGracePeriodSeconds": 60,
                "readinessProbe": {
                    "tcpSocket": {"port": names::VALKEY_PORT},
                    "initialDelaySeconds": 20,
                    "periodSeconds": 10,
                    "failureThreshold": 3
                },
                "volumes": [
                    root_volume,
                    {"name": "data", "persistentVolumeClaim": {"claimName": names::valkey_data_pvc(index)}},
                    {"name": "auth", "secret": {"secretName": valkey.password_secret.name}},
                    // `secretRef` is the JSON name of KubeVirt's UserDataSecretRef.
                    {"name": "cloudinit", "cloudInitNoCloud": {"secretRef": {"name": names::valkey_cloud_init_secret(index)}}}
                ]
            }
        }
    });
    if let Some(templates) = data_volume_templates {
        spec["dataVolumeTemplates"] = json!(templates);
    }
    let mut metadata = meta(p, p.ns_valkey(), &name, names::VALKEY);
    metadata
        .labels
        .get_or_insert_with(Default::default)
        .insert(names::LABEL_VALKEY_ROLE.into(), role(index).into());
    Child::new(
        ChildKind::VirtualMachine,
        &json!({"metadata": metadata, "spec": spec}),
    )
}

#[cfg(test)]
mod tests {
    use crate::build::testing::*;

    #[test]
    fn data_volume_disk_source_uses_a_template() {
        let mut spec = BlackFridayPipelineSpec::default();
        spec.valkey.disk.source = ValkeyDiskSource::DataVolume;
        let d = build(&spec, None);
        let vm = &get(&d, ChildKind::VirtualMachine, Some("valkey"), "valkey-1")
            .object
            .data["spec"];
        assert_eq!(
            vm["dataVolumeTemplates"][0]["metadata"]["name"],
            "valkey-root-1"
        );
        assert_eq!(
            vm["template"]["spec"]["volumes"][0]["dataVolume"]["name"],
            "valkey-root-1"
        );
        assert_eq!(vm["runStrategy"], "Always");
        assert_eq!(
            vm["template"]["spec"]["domain"]["devices"]["interfaces"][0]["masquerade"],
            serde_json::json!({})
        );
    }
}
