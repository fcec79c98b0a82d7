//! The cloud-init user-data that turns the Valkey VM image (scripts/vm-image: Debian with
//! valkey-server already installed, so first boot needs no network) into a Valkey node: format
//! and mount the persistent data disk and write its config. The password never appears here: it is read at boot from the password Secret, which
//! KubeVirt attaches as a small disk, so the rendered VM holds no secret.

use crate::names;
use crate::validate::ValidPipeline;

/// Disk serials: the guest finds the disks as `/dev/disk/by-id/virtio-<serial>`.
pub const DATA_SERIAL: &str = "valkeydata";
pub const AUTH_SERIAL: &str = "valkeyauth";

pub fn cloud_init_user_data(p: &ValidPipeline, index: i32) -> String {
    let primary = index == 0;
    let key = &p.spec.valkey.password_secret.key;
    let primary_host = p.service_host(names::VALKEY_PRIMARY_SERVICE, p.ns_valkey());
    let port = names::VALKEY_PORT;
    let role = if primary {
        "primary".to_string()
    } else {
        format!("replica of {primary_host}")
    };
    let replication = if primary {
        String::new()
    } else {
        format!("      replicaof {primary_host} {port}\n      replica-read-only yes\n")
    };
    let masterauth = if primary {
        ""
    } else {
        "        printf 'masterauth \"%s\"\\n' \"$PASS\"\n"
    };
    format!(
        r#"#cloud-config
# valkey-{index}: {role}. Rendered by blackfriday-operator.
hostname: valkey-{index}
fs_setup:
  - label: valkeydata
    filesystem: ext4
    device: /dev/disk/by-id/virtio-{DATA_SERIAL}
    overwrite: false
mounts:
  - [/dev/disk/by-id/virtio-{DATA_SERIAL}, /var/lib/valkey, ext4, "defaults,nofail", "0", "2"]
write_files:
  - path: /etc/valkey/blackfriday.conf
    permissions: "0644"
    content: |
      bind 0.0.0.0 -::*
      port {port}
      dir /var/lib/valkey
      appendonly yes
      appendfsync everysec
{replication}  - path: /usr/local/sbin/valkey-blackfriday-auth
    permissions: "0755"
    content: |
      #!/bin/sh
      # Writes the Valkey config with the password read from the attached Secret disk.
      set -eu
      mkdir -p /run/valkey-auth
      mountpoint -q /run/valkey-auth || mount -o ro /dev/disk/by-id/virtio-{AUTH_SERIAL} /run/valkey-auth
      PASS=$(cat /run/valkey-auth/{key})
      umask 077
      {{
        cat /etc/valkey/blackfriday.conf
        printf 'requirepass "%s"\n' "$PASS"
{masterauth}      }} > /etc/valkey/blackfriday-auth.conf
      chown valkey:valkey /etc/valkey/blackfriday-auth.conf /var/lib/valkey
      grep -q '^include /etc/valkey/blackfriday-auth.conf' /etc/valkey/valkey.conf ||
        echo 'include /etc/valkey/blackfriday-auth.conf' >> /etc/valkey/valkey.conf
  # Every boot: refresh the password before Valkey starts (a rotated Secret lands on restart).
  - path: /etc/systemd/system/valkey-blackfriday-auth.service
    content: |
      [Unit]
      Description=Valkey password from the attached Secret disk (blackfriday-operator)
      Before=valkey-server.service
      RequiresMountsFor=/var/lib/valkey
      [Service]
      Type=oneshot
      ExecStart=/usr/local/sbin/valkey-blackfriday-auth
      [Install]
      WantedBy=multi-user.target valkey-server.service
runcmd:
  - [systemctl, daemon-reload]
  - [systemctl, enable, valkey-blackfriday-auth.service, valkey-server.service]
  - [systemctl, start, valkey-blackfriday-auth.service]
  - [systemctl, restart, valkey-server.service]
"#
    )
}
