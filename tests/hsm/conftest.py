"""A SoftHSM2 token of the test session's own: a temporary token folder with its own
SOFTHSM2_CONF, initialised with softhsm2-util, and the SOMSTACK_PKCS11_* variables pointing at
it. SoftHSM2 is a real PKCS#11 module (Debian's `softhsm2`, installed by `make install`); the
tests skip only when it is absent, naming the reason.

The module reads SOFTHSM2_CONF once per process (C_Initialize), so the token is one per test
process (session scope); each test module makes the keys it needs with labels of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ops"))  # clihelp

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "somstack-test"
PIN, SO_PIN = "246810", "13579111"


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    """The session's token: SimpleNamespace(module, token, pin_file, options(label) -> HsmOptions)."""
    if not Path(MODULE).is_file():
        pytest.skip(f"SoftHSM2 is not installed ({MODULE} absent): `make install` installs Debian's softhsm2")
    from somstack.core.hsm import HsmOptions, forget_tokens

    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    pin_file = folder / "pin"
    pin_file.write_text(PIN + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
                       check=True, capture_output=True)
        mp.setenv("SOMSTACK_PKCS11_MODULE", MODULE)
        mp.setenv("SOMSTACK_PKCS11_TOKEN", TOKEN)
        mp.setenv("SOMSTACK_PKCS11_PIN_FILE", str(pin_file))

        def options(label=None, **changes):
            return HsmOptions(**{"key": label, "module": MODULE, "token": TOKEN, "pin_file": pin_file, **changes})

        yield SimpleNamespace(module=MODULE, token=TOKEN, pin_file=pin_file, folder=folder, options=options)
        forget_tokens()


@pytest.fixture(scope="session")
def hsm_key(softhsm):
    """`hsm_key(label)`: the address of the token's key ``label``, generated on first use."""
    from somstack.core.errors import HsmError
    from somstack.core.hsm import account_of, generate_key

    made = {}

    def key(label):
        if label not in made:
            try:
                made[label] = account_of(softhsm.options(label)).address
            except HsmError:
                made[label] = generate_key(softhsm.options(), label)
        return made[label]

    return key
