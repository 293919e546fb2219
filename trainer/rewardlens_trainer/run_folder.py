"""The run folder as the TypeScript side lays it out (src/core/training/run-folder.ts, docs/checkpoint-format.md):
the plan it reads, and the checkpoints, state, metrics, log and evaluation it writes."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import socket
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

CHECKPOINT_FORMAT = "rewardlens-checkpoint"
CHECKPOINT_VERSION = 1
PLAN_FORMAT = "rewardlens-plan"
PLAN_VERSION = 1


class PlanError(Exception):
    """The run folder cannot be trained: a missing or foreign plan. Exit 2 with one line."""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_atomic(path: Path, data: bytes) -> None:
    """Temporary file, flushed, renamed over the target: readers see the old or the new file, never half."""
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, value) -> None:
    write_atomic(path, (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode())


class RunFolder:
    def __init__(self, path: str | os.PathLike, base: str | os.PathLike | None = None):
        """`base`: a copy of the plan's pre-trained base folder to read instead of the one it names."""
        self.dir = Path(path).resolve()
        self.base = Path(base).resolve() if base else None
        plan_file = self.dir / "plan.json"
        if not plan_file.is_file():
            raise PlanError(f"{self.dir}: no plan.json (write one with `rewardlens prepare FILE --method M --out {self.dir}`)")
        try:
            self.plan = json.loads(plan_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise PlanError(f"{plan_file}: cannot read JSON ({e})") from e
        if not isinstance(self.plan, dict):
            raise PlanError(f"{plan_file}: not a RewardLens training plan (a JSON {type(self.plan).__name__}, not an object)")
        if self.plan.get("format") != PLAN_FORMAT or self.plan.get("version") != PLAN_VERSION:
            raise PlanError(f"{plan_file}: not a RewardLens training plan version {PLAN_VERSION} (format {self.plan.get('format')!r}, version {self.plan.get('version')!r})")
        missing = [k for k in ("method", "components", "encoder", "hyperParams", "model") if k not in self.plan]
        if missing:
            raise PlanError(f"{plan_file}: the plan lacks {', '.join(missing)} (a damaged plan: prepare the run again)")
        (self.dir / "checkpoints").mkdir(exist_ok=True)
        self._metrics_checked = False

    # tables and initial weights

    def tables(self) -> dict[str, torch.Tensor]:
        """The plan's token ids, pairs and batches, checked against the hash plan.json records: a damaged table would
        otherwise train on other data in silence."""
        path = self.dir / "plan.safetensors"
        expected = self.plan.get("tablesSha256")
        try:
            if expected is not None and sha256_file(path) != expected:
                raise PlanError(f"{path}: does not match plan.json's tablesSha256 (a damaged or replaced file): prepare the run again")
            out = {}
            with safe_open(str(path), framework="pt") as f:
                for k in f.keys():
                    out[k] = f.get_tensor(k)
            return out
        except PlanError:
            raise
        except Exception as e:  # noqa: BLE001 — OSError, SafetensorError: the file's problem, said with its name
            raise PlanError(f"{path}: cannot read the plan's tables ({e}): prepare the run again") from e

    def init_parts(self) -> dict[str, dict[str, torch.Tensor]]:
        parts = load_checkpoint(self.dir / "init.safetensors")[1]
        spec = self.plan.get("baseWeights")
        if spec and "base.encoder" not in parts:
            parts["base.encoder"] = self.base_encoder(spec)
        return parts

    def base_encoder(self, spec: dict) -> dict[str, torch.Tensor]:
        """The initial encoder read from the pre-trained base's folder as the plan lists it (src/core/training/plan.ts
        BaseWeights): each weight from its file, the embedding table cut to the run's compact vocabulary."""
        folder = self.base or Path(spec["folder"])
        if not folder.is_dir():
            raise PlanError(f"{folder}: the plan's base folder is not here; pass --base DIR with a copy of it")
        for file, digest in spec["files"].items():
            path = folder / file
            if not path.is_file():
                raise PlanError(f"{path}: not found (the plan reads the base's weights from {folder})")
            actual = sha256_file(path)
            if actual != digest:
                if self.base is None:
                    raise PlanError(f"{path}: changed since the plan was written (SHA-256 {actual}, the plan says {digest}); prepare the run again, or pass --base {folder} to train from it as it is")
                self.log(f"base weights: {path} is not the file the plan was prepared with (SHA-256 {actual[:12]}…, not {digest[:12]}…); --base asked for it")
        vocab = self.dir / "vocab.json"
        try:
            keep_ids = json.loads(vocab.read_text(encoding="utf-8"))["keep"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise PlanError(f"{vocab}: cannot read the run's vocabulary ({e}): prepare the run again") from e
        rows = keep_ids
        # A copy cut to some runs' vocabulary (bench/device/half-base.py --vocab) holds those rows only, in its order.
        compact = folder / "compact-vocab.json"
        if compact.is_file():
            at = {token: row for row, token in enumerate(json.loads(compact.read_text(encoding="utf-8"))["keep"])}
            missing = [t for t in keep_ids if t not in at]
            if missing:
                raise PlanError(f"{folder}: the copy's embedding table was cut to another vocabulary and lacks {len(missing)} of this run's tokens (ids {missing[:5]}); give the whole base")
            rows = [at[t] for t in keep_ids]
        keep = torch.tensor(rows, dtype=torch.long)
        out: dict[str, torch.Tensor] = {}
        try:
            with contextlib.ExitStack() as stack:
                opened = {}
                for name, source in spec["tensors"].items():
                    if source["file"] not in opened:
                        opened[source["file"]] = stack.enter_context(safe_open(str(folder / source["file"]), framework="pt"))
                    t = opened[source["file"]].get_tensor(source["tensor"]).float()
                    out[name] = t.index_select(0, keep).contiguous() if name == spec["vocabRows"] else t
        except Exception as e:  # noqa: BLE001 — SafetensorError, OSError: another model, or a damaged copy
            raise PlanError(f"{folder}: cannot read the plan's base weights from it ({e}): is it the base the run was prepared with?") from e
        return out

    # checkpoints

    def checkpoint(self, name: str) -> Path:
        return self.dir / "checkpoints" / f"{name}.safetensors"

    # state, metrics, log

    def read_state(self) -> dict:
        f = self.dir / "state.json"
        if not f.exists():
            return {"completed": []}
        return json.loads(f.read_text(encoding="utf-8"))

    def write_state(self, state: dict) -> None:
        write_json(self.dir / "state.json", state)

    def append_metric(self, line: dict) -> None:
        f = self.dir / "metrics.jsonl"
        # A crash can leave the last line unfinished; start on a line of our own so only that one is lost.
        if not self._metrics_checked:
            self._metrics_checked = True
            if f.exists() and f.stat().st_size > 0:
                with open(f, "rb") as h:
                    h.seek(-1, os.SEEK_END)
                    if h.read(1) != b"\n":
                        with open(f, "ab") as a:
                            a.write(b"\n")
        with open(f, "a", encoding="utf-8") as h:
            h.write(json.dumps(line, ensure_ascii=False) + "\n")

    def log(self, message: str) -> None:
        with open(self.dir / "train.log", "a", encoding="utf-8") as h:
            h.write(f"{now()} {message.rstrip()}\n")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (state first); None without /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _owner_of(pid: int) -> str:
    """`<pid>@<host> <start>` as src/core/lock.ts ownerOf writes it (no start where /proc is missing)."""
    start = _start_time(pid)
    return f"{pid}@{socket.gethostname()}" + (f" {start}" if start else "")


def _alive(pid: int, started: str | None = None) -> bool:
    """Whether `pid` runs, is not a zombie and, when the lock says when its owner started, is that process
    (not another that got its pid later) — src/core/lock.ts."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return True
    return fields[0] != "Z" and (started is None or len(fields) <= 19 or fields[19] == started)


class RunLock:
    """`<run>/run.lock` as src/core/lock.ts writes it (`<pid>@<host>`, created exclusively; a dead or zombie
    owner's lock is taken over), so a trainer started by hand never trains a folder another process trains.
    A trainer started by RewardLens finds its parent's lock named in REWARDLENS_RUN_LOCK and leaves it be."""

    def __init__(self, run_dir: Path):
        self.file = run_dir / "run.lock"
        self.mine = False
        inherited = os.environ.get("REWARDLENS_RUN_LOCK")
        if inherited and self._owner() == inherited:
            return
        me = _owner_of(os.getpid())
        for _ in range(2):
            try:
                fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is None:
                    continue
                who, _, started = owner.partition(" ")
                pid, _, host = who.partition("@")
                if host != socket.gethostname():
                    raise PlanError(f"{run_dir} is locked by process {owner} on another machine ({self.file}); delete the lock file if that process is gone")
                if _alive(int(pid) if pid.isdigit() else -1, started or None):
                    raise PlanError(f"{run_dir} is in use by process {pid} ({self.file}); wait for it or stop it")
                self.file.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(me)
            self.mine = True
            return
        raise PlanError(f"cannot lock {run_dir} ({self.file})")

    def _owner(self) -> str | None:
        try:
            return self.file.read_text().strip()
        except FileNotFoundError:
            return None

    def release(self) -> None:
        if self.mine and (self._owner() or "").startswith(f"{os.getpid()}@"):
            self.file.unlink(missing_ok=True)
        self.mine = False


def save_checkpoint(path: Path, parts: dict[str, dict[str, torch.Tensor]], manifest: dict) -> None:
    """docs/checkpoint-format.md: `<part>/<name>` float32 tensors, then the manifest (written last)."""
    tensors = {}
    index = {}
    for part, named in parts.items():
        index[part] = list(named.keys())
        for name, t in named.items():
            tensors[f"{part}/{name}"] = t.detach().to("cpu", torch.float32).contiguous()
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    save_file(tensors, str(tmp), metadata={"format": "pt", "producer": "rewardlens"})
    # safetensors creates the file 0600; the run's other files (and the TypeScript engine's checkpoints) follow the umask.
    os.chmod(tmp, 0o666 & ~_umask())
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
        digest = hashlib.sha256(f.read()).hexdigest()
    os.replace(tmp, path)
    full = {**manifest, "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "parts": index, "weightsSha256": digest}
    write_json(path.with_suffix(".json"), full)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load_checkpoint(path: Path) -> tuple[dict, dict[str, dict[str, torch.Tensor]]]:
    manifest_file = path.with_suffix(".json")
    if not manifest_file.exists():
        raise PlanError(f"{manifest_file}: checkpoint manifest not found")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    if manifest.get("format") != CHECKPOINT_FORMAT or manifest.get("version") != CHECKPOINT_VERSION:
        raise PlanError(f"{manifest_file}: not a RewardLens checkpoint version {CHECKPOINT_VERSION}")
    if not path.is_file():
        raise PlanError(f"{path}: not found (its manifest {manifest_file.name} is there)")
    expected = manifest.get("weightsSha256")
    if expected is not None:
        with open(path, "rb") as h:
            if hashlib.sha256(h.read()).hexdigest() != expected:
                raise PlanError(f"{path}: the weights do not match their manifest's weightsSha256 (a damaged or replaced file)")
    parts: dict[str, dict[str, torch.Tensor]] = {}
    with safe_open(str(path), framework="pt") as f:
        keys = set(f.keys())
        for part, names in manifest["parts"].items():
            parts[part] = {}
            for name in names:
                key = f"{part}/{name}"
                if key not in keys:
                    raise PlanError(f"{path}: tensor '{key}' listed in the manifest is missing")
                parts[part][name] = f.get_tensor(key)
    return manifest, parts
