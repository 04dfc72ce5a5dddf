"""The Costs tab's two fixes: delete an unattached EBS volume, release an unassociated
Elastic IP.

The finding the operator confirmed may be minutes old: someone may have attached the
volume or associated the address since. So each fix describes the resource again just
before acting and refuses, in one line, unless it is still waste. Errors from AWS
itself (access denied, throttling) propagate as botocore errors for the caller's
`providers.aws.errors.explain`.
"""

from __future__ import annotations

from typing import Any

from providers.aws.errors import error_code


class FixRefused(RuntimeError):
    """The resource is no longer waste (or no longer exists): nothing was changed."""


def delete_volume(ec2_client: Any, volume_id: str) -> str:
    """Delete `volume_id` if it is still unattached (state available); one line back."""
    try:
        volumes = ec2_client.describe_volumes(VolumeIds=[volume_id]).get("Volumes", [])
    except Exception as exc:
        if error_code(exc) in ("InvalidVolume.NotFound", "InvalidVolumeID.Malformed"):
            raise FixRefused(f"volume {volume_id} no longer exists: nothing to delete") from None
        raise
    if not volumes:
        raise FixRefused(f"volume {volume_id} no longer exists: nothing to delete")
    volume = volumes[0]
    state = volume.get("State", "unknown")
    if state != "available":
        attached = [a.get("InstanceId", "") for a in volume.get("Attachments", ()) if a.get("InstanceId")]
        where = f" (attached to {', '.join(attached)})" if attached else ""
        raise FixRefused(f"volume {volume_id} is {state}{where}: not deleted — only an unattached "
                         "volume is deleted here")
    ec2_client.delete_volume(VolumeId=volume_id)
    return f"deleted volume {volume_id} ({volume.get('Size', '?')} GB {volume.get('VolumeType', '?')})"


def release_address(ec2_client: Any, allocation_id: str) -> str:
    """Release the Elastic IP `allocation_id` if it is still unassociated; one line back."""
    try:
        addresses = ec2_client.describe_addresses(AllocationIds=[allocation_id]).get("Addresses", [])
    except Exception as exc:
        if error_code(exc) in ("InvalidAllocationID.NotFound", "InvalidAllocationID.Malformed"):
            raise FixRefused(f"address {allocation_id} no longer exists: nothing to release") from None
        raise
    if not addresses:
        raise FixRefused(f"address {allocation_id} no longer exists: nothing to release")
    address = addresses[0]
    ip = address.get("PublicIp", "") or allocation_id
    if address.get("AssociationId"):
        holder = address.get("InstanceId") or address.get("NetworkInterfaceId") or address["AssociationId"]
        raise FixRefused(f"address {ip} ({allocation_id}) is associated with {holder}: not released")
    ec2_client.release_address(AllocationId=allocation_id)
    return f"released address {ip} ({allocation_id})"
