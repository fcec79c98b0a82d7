"""Every recipe script passes shellcheck (Debian's), following what it sources."""
import pytest

from conftest import ROOT, sh

SCRIPTS = sorted(
    [p for p in (ROOT / "config").rglob("*.sh")]
    + [ROOT / "scripts/setup.d/75-cloud.sh", ROOT / "scripts/test.d/75-cloud.sh"]
)


def test_found_the_scripts():
    names = {p.relative_to(ROOT).as_posix() for p in SCRIPTS}
    for must in ["config/cloud/gke/up.sh", "config/cloud/eks/up.sh", "config/cloud/containerd-hosts.sh",
                 "config/platform/install-all.sh", "config/cloud/zot/mirror-images.sh"]:
        assert must in names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_shellcheck(script):
    r = sh(["shellcheck", "-x", "-S", "info", str(script.relative_to(ROOT))], check=False)
    assert r.returncode == 0, r.stdout + r.stderr
