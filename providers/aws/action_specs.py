"""The AWS actions, declared once: key, risk and role feed the gate, the
footer, the help screen and the palette. Stop and reboot interrupt service,
so the operator types the instance's Name (or id) to confirm them."""

from __future__ import annotations

from providers.base import ActionSpec, Risk

EC2_START = ActionSpec(
    "aws.ec2.start", "g", "Start instance",
    "Start the selected stopped EC2 instance", Risk.SAFE, "aws.ec2",
)
EC2_STOP = ActionSpec(
    "aws.ec2.stop", "x", "Stop instance",
    "Stop the selected EC2 instance (type its Name or id to confirm)", Risk.DISRUPTIVE, "aws.ec2",
)
EC2_REBOOT = ActionSpec(
    "aws.ec2.reboot", "o", "Reboot instance",
    "Reboot the selected EC2 instance (type its Name or id to confirm)", Risk.DISRUPTIVE,
    "aws.ec2",
)
RDS_REBOOT = ActionSpec(
    "aws.rds.reboot", "o", "Reboot database",
    "Reboot the selected RDS instance (type its id to confirm)", Risk.DISRUPTIVE, "aws.rds",
)

ACTIONS_BY_SERVICE: dict[str, tuple[ActionSpec, ...]] = {
    "ec2": (EC2_START, EC2_STOP, EC2_REBOOT),
    "rds": (RDS_REBOOT,),
}

# ActionTarget.kind for each service's targets; details carry account, region and the AWS id.
TARGET_KIND = {"ec2": "ec2-instance", "rds": "rds-instance"}
