#!/usr/bin/env python3
"""Writes a realistic GitLab-shaped Service Ping payload with N metrics (default 2000,
about 150 KB) to stdout, with the placeholder UUID_PLACEHOLDER as its uuid."""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rng = random.Random(42)
payload = {
    "uuid": "UUID_PLACEHOLDER",
    "hostname": "gitlab.bench.example.com",
    "version": "16.3.1-ee",
    "installation_type": "omnibus-gitlab",
    "active_user_count": 1234,
    "edition": "EE",
    "recorded_at": "2026-11-22T00:00:00.000+00:00",
    "license_md5": "0123456789abcdef0123456789abcdef",
    "license_id": 4711,
    "license_plan": "ultimate",
    "license_trial": False,
    "database": {"adapter": "postgresql", "version": "15.5", "flavor": "PostgreSQL"},
    "settings": {"signup_enabled": True, "collected_data_categories": ["standard", "subscription", "operational"]},
}
groups = ["counts", "counts_weekly", "counts_monthly", "usage_activity_by_stage", "usage_activity_by_stage_monthly",
          "redis_hll_counters"]
stages = ["plan", "create", "verify", "package", "secure", "govern", "deploy", "monitor", "manage", "analytics"]
for i in range(n):
    group = groups[i % len(groups)]
    stage = stages[(i // len(groups)) % len(stages)]
    node = payload.setdefault(group, {}).setdefault(stage, {})
    key = "i_%s_%s_action_number_%04d_unique_users_total_%s" % (stage, group.split("_")[0], i, "weekly" if i % 2 else "monthly")
    node[key] = -1 if i % 97 == 0 else rng.randint(0, 10_000_000)
json.dump(payload, sys.stdout, separators=(",", ":"))
