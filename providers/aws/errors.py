"""AWS failures as one line that says what to fix, never a traceback.

Each account/region/service shows its own line, so a denied region or a
throttled service never hides the rest of the estate.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from providers.aws.session import ReadOnlyViolation

ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
                 "UnauthorizedAccess", "Forbidden"}
EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
REJECTED = {"InvalidClientTokenId", "AuthFailure", "UnrecognizedClientException",
            "SignatureDoesNotMatch", "InvalidAccessKeyId", "IncompleteSignature"}
REGION_DISABLED = {"OptInRequired", "InvalidRegion", "UnsupportedRegion"}
THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
             "SlowDown", "RequestThrottled", "RequestThrottledException",
             "ProvisionedThroughputExceededException"}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLED


def explain(exc: BaseException, *, account: str, region: str, service: str,
            endpoint: str | None = None, role_arn: str | None = None) -> str:
    """What went wrong for `account`/`region`/`service`, and what to do about it."""
    if isinstance(exc, ReadOnlyViolation):
        return str(exc)
    if isinstance(exc, NoCredentialsError):
        return (f"no AWS credentials for account {account} — set profile, role_arn or keys in "
                "providers.aws.accounts, or AWS_PROFILE / AWS_ACCESS_KEY_ID")
    if isinstance(exc, PartialCredentialsError):
        return f"incomplete AWS credentials for account {account} — {exc}"
    if isinstance(exc, ProfileNotFound):
        return f"{exc} — check the profile name against ~/.aws/config"
    if isinstance(exc, NoRegionError):
        return f"no region for account {account} — list regions in providers.aws.accounts"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        where = endpoint or f"the {service} endpoint in {region}"
        return f"cannot reach {where} — check the network, a proxy, or endpoint_url"
    if isinstance(exc, ReadTimeoutError):
        return f"{service} in {region} did not answer in time — AWS may be degraded; retrying"
    if isinstance(exc, ClientError):
        return _client_error(exc, account=account, region=region, service=service, role_arn=role_arn)
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _client_error(exc: ClientError, *, account: str, region: str, service: str,
                  role_arn: str | None) -> str:
    code = error_code(exc)
    operation = exc.operation_name or "?"
    if operation == "AssumeRole" and (code in ACCESS_DENIED or code in REJECTED):
        return (f"cannot assume {role_arn or 'the role'} for account {account} ({code}) — check the "
                "role's trust policy, external_id and the base credentials")
    if code in ACCESS_DENIED:
        return (f"access denied to {service}:{operation} in {account}/{region} — grant it to the "
                f"role or user, or remove {region} from this account's regions")
    if code in EXPIRED:
        return (f"AWS credentials of account {account} have expired ({code}) — renew them "
                "(aws sso login, or a new session token)")
    if code in REJECTED:
        return f"AWS rejected the credentials of account {account} ({code}) — check the keys or profile"
    if code in REGION_DISABLED:
        return (f"region {region} is not enabled for account {account} ({code}) — enable it in "
                "the account settings or remove it from regions")
    if code in THROTTLED:
        return (f"throttled by AWS ({code}) on {service}:{operation} — retrying with backoff; "
                f"raise providers.aws.intervals if it persists")
    message = str(exc.response.get("Error", {}).get("Message", "")).strip().splitlines()
    return f"{service}:{operation} failed: {code}" + (f": {message[0]}" if message else "")
