"""Boot the operator's Valkey VirtualMachines with QEMU the way KubeVirt would (docs/valkey-vm.md).

Everything a VM gets comes from `blackfriday-operator render` output, never from a copy:
- the disks and their order, bus and serials: `spec.template.spec.domain.devices.disks`;
- `containerDisk` -> a qcow2 overlay whose backing file is the containerDisk's qcow2 (KubeVirt
  also boots an overlay of the image, thrown away with the pod: a restart starts from the image);
- `persistentVolumeClaim` -> `<state>/pvc/<claim>/disk.img`, a sparse raw file of the claim's
  requested size (KubeVirt's Filesystem-mode PVC disk), kept across restarts;
- `secret` -> an ISO9660 disk, volume id `cfgdata`, one file per Secret key (KubeVirt's
  pkg/config: genisoimage -volid cfgdata -joliet -rock -graft-points);
- `cloudInitNoCloud` (inline `userData` or the `secretRef` Secret's `userdata`) -> an ISO9660 `cidata` seed with
  user-data and meta-data (instance-id <vm>.<namespace>, local-hostname <vm>);
- cores and memory from `domain.cpu` / `domain.memory.guest`; q35, virtio-rng.

Network: a network namespace with a bridge (198.19.128.2/24) and dnsmasq giving each VM a fixed
address (valkey-N -> 198.19.128.(10+N)) and answering the Services' cluster names (the primary
Service -> VM 0, the read Service -> every VM) like cluster DNS; no router, so the guests reach
nothing else. A veth pair puts 198.19.128.1 on the host, so tests and programs reach the VMs.
"""
import argparse
import base64
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUBNET = "198.19.128"
HOST_IP = f"{SUBNET}.1"
BRIDGE_IP = f"{SUBNET}.2"
NETNS = os.environ.get("BF_VM_NETNS", "bfvm")
HOST_VETH, NS_VETH, BRIDGE = "bfvm-host", "bfvm-ns", "bfvm-br"
VALKEY_PORT = 6379


def vm_ip(index):
    return f"{SUBNET}.{10 + index}"


def sh(*cmd, **kw):
    kw.setdefault("check", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def quantity_bytes(q):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, mult in units.items():
        if q.endswith(suffix):
            return int(float(q[: -len(suffix)]) * mult)
    return int(q)


# ------------------------------------------------------------------------------------ render
class Rendered:
    """The objects `blackfriday-operator render -f FILE` prints, indexed by kind/name."""

    def __init__(self, text):
        self.objects = [d for d in yaml.safe_load_all(text) if d]

    @classmethod
    def from_operator(cls, manifest, binary=None):
        binary = binary or os.environ.get("BF_OPERATOR_BIN") or str(ROOT / "target/debug/blackfriday-operator")
        out = subprocess.run([binary, "render", "-f", str(manifest)], check=True,
                             capture_output=True, text=True).stdout
        return cls(out)

    def find(self, kind, name, namespace=None):
        for o in self.objects:
            m = o.get("metadata", {})
            if o.get("kind") == kind and m.get("name") == name and (
                    namespace is None or m.get("namespace") == namespace):
                return o
        raise KeyError(f"render has no {kind} {namespace or '*'}/{name}")

    def virtual_machines(self):
        vms = [o for o in self.objects if o.get("kind") == "VirtualMachine"]
        return sorted(vms, key=lambda o: o["metadata"]["name"])

    def secret_data(self, name, namespace):
        s = self.find("Secret", name, namespace)
        data = {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
        data.update({k: v.encode() for k, v in (s.get("stringData") or {}).items()})
        return data

    def user_data(self, vm):
        """The VM's cloud-init user-data: inline, or from the Secret `secretRef` names."""
        ns = vm["metadata"]["namespace"]
        for v in vm["spec"]["template"]["spec"]["volumes"]:
            src = v.get("cloudInitNoCloud")
            if src is None:
                continue
            if "userData" in src:
                return src["userData"].encode()
            ref = src.get("secretRef") or src.get("userDataSecretRef")   # KubeVirt's field: secretRef
            if ref:
                data = self.secret_data(ref["name"], ns)
                # KubeVirt reads the key `userdata` (or `userData`) of that Secret
                for key in ("userdata", "userData"):
                    if key in data:
                        return data[key]
                raise KeyError(f"Secret {ref['name']} has no userdata key")
        raise KeyError(f"{vm['metadata']['name']} has no cloudInitNoCloud volume")

    def services(self, namespace):
        return [o for o in self.objects if o.get("kind") == "Service"
                and o["metadata"].get("namespace") == namespace]


# ---------------------------------------------------------------------------------- network
def _netns_exists():
    return NETNS in sh("ip", "netns", "list", capture_output=True, text=True).stdout.split()


def net_down():
    if _netns_exists():
        pidfile = pathlib.Path(f"/run/{NETNS}-dnsmasq.pid")
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
            except (ValueError, ProcessLookupError):
                pass
            pidfile.unlink(missing_ok=True)
        sh("ip", "netns", "del", NETNS)
    sh("ip", "link", "del", HOST_VETH, check=False, stderr=subprocess.DEVNULL)


def net_up(state, dns_records):
    """Namespace, bridge, veth to the host, dnsmasq (DHCP by MAC + the Services' names)."""
    net_down()
    ns = ["ip", "netns", "exec", NETNS]
    sh("ip", "netns", "add", NETNS)
    sh(*ns, "ip", "link", "set", "lo", "up")
    sh(*ns, "ip", "link", "add", BRIDGE, "type", "bridge")
    sh(*ns, "ip", "addr", "add", f"{BRIDGE_IP}/24", "dev", BRIDGE)
    sh(*ns, "ip", "link", "set", BRIDGE, "up")
    sh("ip", "link", "add", HOST_VETH, "type", "veth", "peer", "name", NS_VETH)
    sh("ip", "link", "set", NS_VETH, "netns", NETNS)
    sh(*ns, "ip", "link", "set", NS_VETH, "master", BRIDGE, "up")
    sh("ip", "addr", "add", f"{HOST_IP}/24", "dev", HOST_VETH)
    sh("ip", "link", "set", HOST_VETH, "up")
    args = [*ns, "dnsmasq", f"--pid-file=/run/{NETNS}-dnsmasq.pid", "--user=root",
            f"--interface={BRIDGE}", "--bind-interfaces", "--except-interface=lo",
            "--no-resolv", "--no-hosts", "--no-poll", "--log-facility=" + str(state / "dnsmasq.log"),
            f"--dhcp-leasefile={state / 'dnsmasq.leases'}",
            f"--dhcp-range={SUBNET}.10,{SUBNET}.99,255.255.255.0,12h",
            "--dhcp-option=option:router",        # no default route: the guests reach only this net
            f"--dhcp-option=option:dns-server,{BRIDGE_IP}"]
    for index in range(8):
        args.append(f"--dhcp-host={mac(index)},{vm_ip(index)}")
    for name, ips in dns_records.items():
        for ip in ips:
            args.append(f"--host-record={name},{ip}")
    sh(*args)


def mac(index):
    return f"52:54:00:bf:80:{10 + index:02x}"


# ------------------------------------------------------------------------------------- VMs
def iso(path, volid, files):
    """An ISO9660 disk the way KubeVirt writes config disks (genisoimage, Joliet + Rock Ridge)."""
    staging = path.with_suffix(".d")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    grafts = []
    for name, content in files.items():
        (staging / name).write_bytes(content)
        grafts.append(f"{name}={staging / name}")
    sh("genisoimage", "-quiet", "-output", path, "-volid", volid, "-joliet", "-rock",
       "-graft-points", *grafts)
    shutil.rmtree(staging)


def probe_accel(qcow2, state):
    """'kvm' if a KVM guest gets from the BIOS into the kernel within 20 s, else 'tcg'.
    BF_VM_ACCEL=tcg|kvm skips the probe. The answer is cached per host kernel and QEMU build."""
    forced = os.environ.get("BF_VM_ACCEL", "auto")
    if forced in ("tcg", "kvm"):
        return forced
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    qemu_ver = sh("qemu-system-x86_64", "--version", capture_output=True, text=True).stdout.split("\n")[0]
    cache = pathlib.Path(os.environ.get("BF_CACHE", pathlib.Path.home() / ".cache/blackfriday-operator"))
    key = f"{os.uname().release} {qemu_ver}"
    cache_file = cache / "vm-kvm-probe.json"
    try:
        known = json.loads(cache_file.read_text())
        if known.get("key") == key:
            return known["accel"]
    except (OSError, ValueError, KeyError):
        pass
    state.mkdir(parents=True, exist_ok=True)
    overlay, log = state / "probe.qcow2", state / "probe.log"
    sh("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", qcow2, overlay)
    log.write_bytes(b"")
    p = subprocess.Popen(["qemu-system-x86_64", "-machine", "q35,accel=kvm", "-cpu", "host", "-m", "512",
                          "-nodefaults", "-display", "none", "-serial", f"file:{log}",
                          "-drive", f"file={overlay},if=virtio,format=qcow2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    accel = "tcg"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and p.poll() is None:
        if b"Run /init" in log.read_bytes():
            accel = "kvm"
            break
        time.sleep(0.5)
    if p.poll() is None:
        p.kill()
    p.wait()
    overlay.unlink(missing_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    cache_file.write_text(json.dumps({"key": key, "accel": accel}))
    return accel


class VM:
    """One rendered VirtualMachine booted by QEMU in the lab's network namespace."""

    def __init__(self, lab, vm):
        self.lab, self.obj = lab, vm
        self.name = vm["metadata"]["name"]
        self.namespace = vm["metadata"]["namespace"]
        self.index = int(self.name.rsplit("-", 1)[1])
        self.ip = vm_ip(self.index)
        self.dir = lab.state / self.name
        self.proc = None
        self.started = None

    @property
    def console(self):
        return self.dir / "console.log"

    def _disk_args(self):
        tmpl = self.obj["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in tmpl["volumes"]}
        args = []
        for n, disk in enumerate(tmpl["domain"]["devices"]["disks"]):
            vol = volumes[disk["name"]]            # KubeVirt rejects a disk without its volume too
            bus = disk.get("disk", {}).get("bus", "virtio")
            if bus != "virtio":
                raise ValueError(f"{self.name}: disk {disk['name']} bus {bus} (only virtio here)")
            readonly = False
            if "containerDisk" in vol:
                image = vol["containerDisk"]["image"]
                if "/valkey-vm:" not in image:
                    raise ValueError(f"{self.name}: containerDisk {image} is not the valkey-vm image")
                path = self.dir / "root.qcow2"      # fresh on every start, like a new virt-launcher pod
                path.unlink(missing_ok=True)
                sh("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", self.lab.qcow2, path)
                fmt = "qcow2"
            elif "persistentVolumeClaim" in vol:
                claim = vol["persistentVolumeClaim"]["claimName"]
                pvc = self.lab.rendered.find("PersistentVolumeClaim", claim, self.namespace)
                size = quantity_bytes(pvc["spec"]["resources"]["requests"]["storage"])
                path = self.lab.state / "pvc" / claim / "disk.img"
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with open(path, "wb") as f:
                        f.truncate(size)
                fmt = "raw"
            elif "secret" in vol:
                name = vol["secret"]["secretName"]
                path = self.dir / f"{disk['name']}.iso"
                iso(path, vol["secret"].get("volumeLabel") or "cfgdata", self.lab.secret(name, self.namespace))
                fmt, readonly = "raw", True
            elif "cloudInitNoCloud" in vol:
                path = self.dir / "cloudinit.iso"
                meta = f"instance-id: {self.name}.{self.namespace}\nlocal-hostname: {self.name}\n"
                iso(path, "cidata", {"user-data": self.lab.rendered.user_data(self.obj),
                                     "meta-data": meta.encode()})
                fmt, readonly = "raw", True
            else:
                raise ValueError(f"{self.name}: volume {disk['name']} of an unsupported kind: {sorted(vol)}")
            drive = f"if=none,id=d{n},file={path},format={fmt},discard=unmap"
            if readonly:
                drive += ",readonly=on"
            device = f"virtio-blk-pci,drive=d{n}"
            if "serial" in disk:
                device += f",serial={disk['serial']}"
            if "bootOrder" in disk:
                device += f",bootindex={disk['bootOrder']}"
            args += ["-drive", drive, "-device", device]
        return args

    def start(self):
        if self.proc and self.proc.poll() is None:
            raise RuntimeError(f"{self.name} is running")
        self.dir.mkdir(parents=True, exist_ok=True)
        dom = self.obj["spec"]["template"]["spec"]["domain"]
        cores = int(dom.get("cpu", {}).get("cores", 1))
        mem_mib = quantity_bytes(dom.get("memory", {}).get("guest", "1Gi")) // 2**20
        tap = f"bfvm-tap{self.index}"
        ns = ["ip", "netns", "exec", NETNS]
        sh(*ns, "ip", "link", "del", tap, check=False, stderr=subprocess.DEVNULL)
        sh(*ns, "ip", "tuntap", "add", "dev", tap, "mode", "tap")
        sh(*ns, "ip", "link", "set", tap, "master", BRIDGE, "up")
        accel = self.lab.accel
        cmd = [*ns, "qemu-system-x86_64", "-name", self.name, "-no-user-config", "-nodefaults",
               "-machine", f"q35,accel={accel}", "-cpu", "host" if accel == "kvm" else "qemu64",
               "-smp", f"{cores},sockets=1,cores={cores},threads=1", "-m", str(mem_mib),
               "-display", "none", "-serial", f"file:{self.console}",
               "-qmp", f"unix:{self.dir / 'qmp.sock'},server=on,wait=off",
               *self._disk_args(),
               "-netdev", f"tap,id=net0,ifname={tap},script=no,downscript=no",
               "-device", f"virtio-net-pci,netdev=net0,mac={mac(self.index)}",
               "-device", "virtio-rng-pci"]
        self.console.write_bytes(b"")
        log = open(self.dir / "qemu.log", "ab")
        self.started = time.monotonic()
        # `ip netns exec` execs QEMU: the pid is QEMU's
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=True)
        (self.dir / "qemu.pid").write_text(str(self.proc.pid))

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def qmp(self, command, **arguments):
        """One QMP command on the VM's monitor socket (query-status, cont, ...)."""
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(self.dir / "qmp.sock"))
            f = s.makefile("rw")
            f.readline()                                    # greeting
            for cmd in ({"execute": "qmp_capabilities"}, {"execute": command, "arguments": arguments}):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break
            return reply.get("return", reply)

    def paused_reason(self):
        """QEMU's run state when the guest is stopped (e.g. io-error: the host disk was full,
        QEMU's and KubeVirt's default werror=stop), else None."""
        try:
            status = self.qmp("query-status")
        except (OSError, ValueError):
            return None
        return status.get("status") if status.get("status") in ("io-error", "internal-error", "guest-panicked") else None


class Lab:
    def __init__(self, state, qcow2, rendered, password):
        self.state = pathlib.Path(state)
        self.qcow2 = pathlib.Path(qcow2)
        self.rendered = rendered
        self.password = password
        self.state.mkdir(parents=True, exist_ok=True)
        self.accel = probe_accel(self.qcow2, self.state)
        self.vms = [VM(self, vm) for vm in rendered.virtual_machines()]
        if not self.vms:
            raise ValueError("render has no VirtualMachine")
        self.namespace = self.vms[0].namespace
        self.password_secret = self._password_secret_name()

    def _password_secret_name(self):
        for v in self.vms[0].obj["spec"]["template"]["spec"]["volumes"]:
            if "secret" in v:
                return v["secret"]["secretName"]
        raise KeyError("the VMs mount no Secret")

    def secret(self, name, namespace):
        """A Secret's files. The password Secret's value is only known in a cluster (render
        shows a placeholder): the lab's password takes its place under the rendered key."""
        data = self.rendered.secret_data(name, namespace)
        if name == self.password_secret:
            data = {k: self.password.encode() for k in data}
        return data

    def dns_records(self):
        """Each rendered Service's cluster name -> the VMs its selector picks (by role label)."""
        domain = None
        for line in self.rendered.user_data(self.vms[-1].obj).decode().splitlines():
            if line.strip().startswith("replicaof "):
                host = line.split()[1]                 # <service>.<ns>.svc.<domain>
                domain = host.split(".svc.", 1)[1]
        records = {}
        for svc in self.rendered.services(self.namespace):
            sel = svc["spec"].get("selector") or {}
            ips = [vm.ip for vm in self.vms
                   if all(vm.obj["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
            if ips and domain:
                records[f"{svc['metadata']['name']}.{self.namespace}.svc.{domain}"] = ips
        return records

    def up(self):
        net_up(self.state, self.dns_records())

    def down(self):
        for vm in self.vms:
            vm.kill()
        net_down()


def wait_valkey(vm, password, deadline_s=900):
    """Seconds from QEMU start until Valkey at the VM's address answers PING with the password."""
    import valkey
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if not vm.running():
            raise RuntimeError(f"{vm.name}: QEMU exited ({vm.proc.returncode}); console: {vm.console}")
        paused = vm.paused_reason()
        if paused:
            raise RuntimeError(f"{vm.name}: the guest is stopped ({paused}); a full host disk stops it")
        try:
            c = valkey.Valkey(host=vm.ip, port=VALKEY_PORT, password=password, socket_timeout=3,
                              socket_connect_timeout=2)
            if c.ping():
                return time.monotonic() - vm.started
        except (valkey.ConnectionError, valkey.TimeoutError, valkey.AuthenticationError, OSError):
            pass
        except valkey.ResponseError as e:          # loading the AOF, or the auth config not yet applied
            if "LOADING" not in str(e) and "NOAUTH" not in str(e):
                raise
        time.sleep(1)
    tail = vm.console.read_text(errors="replace")[-3000:]
    raise TimeoutError(f"{vm.name}: Valkey did not answer within {deadline_s} s; console tail:\n{tail}")


def wait_replica_link(vm, password, deadline_s=600):
    """Wait until a replica VM reports its link to the primary up (the first full sync done)."""
    import valkey
    c = valkey.Valkey(host=vm.ip, port=VALKEY_PORT, password=password, socket_timeout=10)
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if c.info("replication").get("master_link_status") == "up":
            return
        time.sleep(1)
    raise TimeoutError(f"{vm.name}: replication link not up within {deadline_s} s")


def with_vm_count(manifest, count, state):
    """A copy of the pipeline manifest with spec.valkey.replicas = count (the operator's knob for
    the number of Valkey VMs: VM 0 is the primary, the others replicate it)."""
    if count < 1:
        raise ValueError("--vms: at least 1 (the primary)")
    doc = yaml.safe_load(pathlib.Path(manifest).read_text())
    doc.setdefault("spec", {}).setdefault("valkey", {})["replicas"] = count
    state.mkdir(parents=True, exist_ok=True)
    out = state / "pipeline.yaml"
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


def default_qcow2():
    return subprocess.run([str(ROOT / "scripts/vm-image"), "--print-qcow2"], check=True,
                          capture_output=True, text=True).stdout.strip()


# ------------------------------------------------------------------------------------- CLI
def main(argv=None):
    ap = argparse.ArgumentParser(description="Valkey VMs from the operator's render, booted by QEMU")
    ap.add_argument("command", choices=["up", "down"])
    ap.add_argument("--state", default=str(ROOT / ".testbed/vms"))
    ap.add_argument("-f", "--manifest", default=str(ROOT / "config/samples/pipeline.yaml"))
    ap.add_argument("--password", default=os.environ.get("VALKEY_PASSWORD", ""))
    ap.add_argument("--qcow2", default="")
    ap.add_argument("--vms", type=int, default=None,
                    help="how many VMs (spec.valkey.replicas: 1 = a primary alone, 2 = + a replica); "
                         "default: the manifest's")
    a = ap.parse_args(argv)
    state = pathlib.Path(a.state)
    if a.command == "down":
        for pidfile in state.glob("*/qemu.pid"):
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass
            pidfile.unlink()
        net_down()
        return 0
    if not a.password:
        a.password = base64.b32encode(os.urandom(15)).decode().lower()
    manifest = pathlib.Path(a.manifest)
    if a.vms is not None:
        manifest = with_vm_count(manifest, a.vms, state)
    qcow2 = a.qcow2 or default_qcow2()
    lab = Lab(state, qcow2, Rendered.from_operator(manifest), a.password)
    lab.up()
    for vm in lab.vms:
        vm.start()
    boot = {}
    for vm in lab.vms:
        t = wait_valkey(vm, a.password)
        boot[vm.name] = round(t, 1)
        print(f"{vm.name}: {vm.ip}:{VALKEY_PORT} answered after {t:.0f} s ({lab.accel})", file=sys.stderr)
        vm.proc = None                              # leave it running; `down` stops it by pid file
    if len(lab.vms) > 1:                            # the replicas have synced with the primary
        for vm in lab.vms[1:]:
            wait_replica_link(vm, a.password)
    print(json.dumps({"primary": f"{lab.vms[0].ip}:{VALKEY_PORT}",
                      "replicas": [f"{vm.ip}:{VALKEY_PORT}" for vm in lab.vms[1:]],
                      "password": a.password, "accel": lab.accel, "boot_seconds": boot,
                      "manifest": str(manifest), "qcow2": str(qcow2),
                      "qcow2_bytes": pathlib.Path(qcow2).stat().st_size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
