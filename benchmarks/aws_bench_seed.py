"""The moto side of aws_bench.py: a moto server whose EC2 tag lookup is linear.

    python benchmarks/aws_bench_seed.py --port 5000            # what aws_bench.py starts
    python benchmarks/aws_bench_seed.py --port 5000 --as-is    # moto exactly as installed

Why the patch. moto 5.2.1 finds one EC2 resource's tags by scanning every tag of the
region with a regular expression per entry (`TaggedEC2Resource.get_tags` ->
`TagBackend.describe_tags(filters={"resource-id": [id]})`), once per instance and
volume it serialises. DescribeInstances over 2,500 instances (5,000 tags) costs
~9 s of moto's CPU, 62 % of it in that scan (py-spy, see docs/performance.md), and
DescribeVolumes over 3,750 volumes ~8 s. The console reads 4 regions at once through
one moto process (one GIL): each answer then takes ~40 s, past botocore's 30 s read
timeout (providers/aws/session.py), so with an unpatched moto the fleet never loads.
AWS answers a 1,000-instance page in seconds; the patch brings moto closer to that and
leaves the answers unchanged: the same tags, in the same order, with the same
resource type (fnmatch patterns of a plain id match only that id).

Run it by path; it takes moto.server's own flags after ours (-H, -p are set here).
"""

from __future__ import annotations

import argparse
import os
import sys


def patch_tag_lookup() -> bool:
    """Look up one resource's tags by id instead of scanning the region's tags."""
    try:
        from moto.ec2.models.core import TaggedEC2Resource
        from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
    except ImportError:
        return False
    if not hasattr(TaggedEC2Resource, "get_tags"):
        return False

    def get_tags(self: TaggedEC2Resource) -> list[dict[str, str]]:
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        tags = self.ec2_backend.tags.get(resource_id, {})  # type: ignore[attr-defined]
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [{"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
                for key, value in tags.items()]

    TaggedEC2Resource.get_tags = get_tags  # type: ignore[method-assign]
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="moto server for aws_bench.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--as-is", action="store_true", help="run moto unpatched")
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    if not args.as_is and not patch_tag_lookup():
        print("aws_bench_seed: moto's EC2 tags are not where 5.2.1 keeps them; running unpatched",
              file=sys.stderr)
    from moto.server import main as moto_main

    moto_main(["-H", args.host, "-p", str(args.port)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
