"""`brownie run scripts/deploy.py [--network N]`: the deploy plan of the somstack package,
on the network brownie is connected to. All logic lives in somstack.system.deploy."""

from somstack.core import logs
from somstack.core.session import brownie_session
from somstack.system.deploy import DeployContext, deploy_system, resolve_holders


def main():
    logs.configure(stream="stdout")  # the progress lines, printed with brownie's
    session = brownie_session()
    holders = resolve_holders(session.settings, session.network, session.w3)
    ctx = DeployContext(
        session.settings, session.network, session.w3, session.sender, session.settings.deployment(session.network.name), holders
    )
    result = deploy_system(ctx)
    for name, record in sorted(result.manifest.contracts.items()):
        print(f"{name:26s} {record['address']}")
    return result.manifest
