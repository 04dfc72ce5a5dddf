"""The Costs tab's two fixes, declared once. Both destroy something that cannot
be brought back (a volume's data, a public IP address), so the operator types the
volume id or the address to confirm, and the provider checks again, just before
acting, that the volume is still unattached and the address still unassociated."""

from __future__ import annotations

from providers.base import ActionSpec, Risk

DELETE_VOLUME = ActionSpec(
    "costs.ebs.delete", "ctrl+d", "Delete volume",
    "Delete the selected unattached EBS volume and its data (type its id to confirm)",
    Risk.DESTRUCTIVE, "costs",
)
RELEASE_ADDRESS = ActionSpec(
    "costs.eip.release", "ctrl+r", "Release address",
    "Release the selected unassociated Elastic IP (type the address to confirm)",
    Risk.DESTRUCTIVE, "costs",
)
ACTIONS = (DELETE_VOLUME, RELEASE_ADDRESS)
TARGET_KIND = {DELETE_VOLUME.id: "ebs-volume", RELEASE_ADDRESS.id: "elastic-ip"}
"""ActionTarget.kind; details carry account, region and volume_id or allocation_id."""
