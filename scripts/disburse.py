"""`brownie run scripts/disburse.py main payroll.csv 2026-12-teachers [--network N]`: pays a payroll CSV from the
treasury on the network brownie is connected to, exactly as `somstack cbdc disburse` does. All
logic lives in somstack.ops.cbdc."""

from pathlib import Path

from somstack.core import logs
from somstack.core.session import brownie_session
from somstack.ops.cbdc import Cbdc, disburse, prepare_payroll
from somstack.ops.common import sender_for


def main(payroll, payroll_id, batch_size="200"):
    logs.configure(stream="stdout")  # the progress lines, printed with brownie's
    session = brownie_session()
    cbdc = Cbdc.of_session(session)
    sender = sender_for(session, "TREASURY")
    plan = prepare_payroll(cbdc, sender.signer.address, Path(payroll), payroll_id, int(batch_size))
    for line in plan.lines(cbdc.decimals):
        print(line)
    result = disburse(cbdc, sender, plan)
    for line in result.lines(cbdc.decimals):
        print(line)
    return result
