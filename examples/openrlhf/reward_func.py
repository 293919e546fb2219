"""OpenRLHF custom reward function that asks a `rewardlens serve` reward server.

Use with OpenRLHF's `--remote_rm_url /path/to/reward_func.py` (the server itself also works directly as
`--remote_rm_url http://127.0.0.1:5000/get_reward`). Settings come from the environment:

  REWARDLENS_URL           the server (default http://127.0.0.1:5000)
  REWARDLENS_SERVE_TOKEN   the bearer token, when the server was started with one
  REWARDLENS_TIMEOUT       seconds per attempt (default 180, as OpenRLHF's remote_rm_utils)

Standard library only (urllib); requests are retried as OpenRLHF's remote_rm_utils retries them.
"""

import json
import os
import time
import urllib.error
import urllib.request

TRY_MAX_TIMES = 5


class RewardServerError(RuntimeError):
    pass


def _post(url, payload, token, timeout, try_max_times=TRY_MAX_TIMES):
    body = json.dumps(payload).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    last = None
    for attempt in range(try_max_times):
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", "replace")
            # A full queue or a server restarting: wait as it asks, then try again.
            if e.code in (503, 502, 504):
                last = RewardServerError("%s: HTTP %d: %s" % (url, e.code, detail))
                time.sleep(float(e.headers.get("Retry-After") or 1))
                continue
            # Anything else (400: a query without the chat template's assistant header) will not get better.
            raise RewardServerError("%s: HTTP %d: %s" % (url, e.code, detail)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = RewardServerError("%s: %s" % (url, e))
            time.sleep(1)
    raise RewardServerError("%s: no answer after %d tries (%s)" % (url, try_max_times, last))


def _as_tensors(result):
    try:
        import torch
    except ImportError:
        return result
    out = dict(result)
    out["rewards"] = torch.tensor(result["rewards"], dtype=torch.float)
    out["scores"] = torch.tensor(result["scores"], dtype=torch.float)
    # extra_logs: numbers per query; a capability expert of another category than the routed one is NaN.
    out["extra_logs"] = {
        k: torch.tensor([float("nan") if x is None else x for x in v], dtype=torch.float)
        for k, v in result.get("extra_logs", {}).items()
    }
    return out


def reward_func(queries, prompts, labels):
    base = os.environ.get("REWARDLENS_URL", "http://127.0.0.1:5000").rstrip("/")
    url = base if base.endswith("/get_reward") else base + "/get_reward"
    payload = {"query": list(queries), "prompts": list(prompts) if prompts is not None else None, "labels": list(labels) if labels is not None else None}
    result = _post(url, payload, os.environ.get("REWARDLENS_SERVE_TOKEN"), float(os.environ.get("REWARDLENS_TIMEOUT", "180")))
    return _as_tensors(result)


if __name__ == "__main__":
    # A check from the shell: python reward_func.py < request.json prints the answer as JSON.
    import sys

    request = json.load(sys.stdin)
    r = reward_func(request["query"], request.get("prompts"), request.get("labels"))
    print(json.dumps({k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in r.items() if k != "extra_logs"}))
