"""A dossier verified offline, from its own content and the public key: its chains, the
signed checkpoint and the heads it proves, the probations the case started, the sections
derived from the events, (CSV, HTML) every byte of the file as rendered again, and (a
package with its files, ``bundle``) every file's bytes against its hash and the hashes the
chained events name."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.chain import CASE_CHAIN, PROBATION_CHAIN, Chain, ChainLink, check_chain, parse_iso_utc
from audit.dossier.bundle import file_faults, named_by_events, unpack
from audit.dossier.events import derived_sections, event_from_json, link_from_json
from audit.dossier.formats import parse, render, sniff
from audit.dossier.spec import DOSSIER_FORMAT, DOSSIER_FORMAT_V1, DOSSIER_FORMATS, DossierError
from audit.keyring import Keyring
from audit.keys import key_id, signature_valid
from audit.merkle import leaf_name, root_from_proof
from audit.queries import started_probations
from audit.statement import (
    VERSIONS,
    Checkpoint,
    checkpoint_problems,
    heads_from_json,
    previous_from_json,
)


@dataclass
class DossierReport:
    format: str
    case_id: str = ""
    events: int = 0
    covered_through: int = 0
    checkpoint_id: int | None = None
    faults: list[str] = field(default_factory=list)
    probations: int = 0
    probation_events: int = 0
    files: int = 0  # a package's files
    files_named: int = 0  # of them, those the chained events name

    @property
    def ok(self) -> bool:
        return not self.faults


@dataclass(frozen=True, slots=True)
class _Proven:
    """A dossier's checkpoint whose signature was checked (faults said if it failed)."""

    name: str
    checkpoint: Checkpoint
    with_heads: bool  # the dossier carries every chain's head, not proofs alone


def _check_checkpoint(
    d: dict[str, Any], keys: Keyring | Ed25519PublicKey, report: DossierReport
) -> _Proven | None:
    """The checkpoint, its signature checked, or None (with the faults said)."""
    cp = d.get("checkpoint")
    case_id = report.case_id
    if cp is None:
        report.faults.append(
            f"案件 {case_id}：没有已签名的检查点覆盖本案件；请签一个检查点"
            "（`appointments audit checkpoint`）后重新导出"
        )
        return None
    try:
        report.checkpoint_id = int(cp["id"])
        with_heads = "case_heads" in cp
        checkpoint = Checkpoint(
            id=int(cp["id"]),
            created_at=parse_iso_utc(str(cp["created_at"])),
            merkle_root=str(cp["merkle_root"]),
            case_heads=heads_from_json(cp["case_heads"]) if with_heads else {},
            event_count=int(cp["event_count"]),
            signature=str(cp["signature"]),
            key_id=str(cp["key_id"]),
            probation_heads=heads_from_json(cp.get("probation_heads", {}), "probation_heads"),
            version=int(cp.get("version", 1)),
            previous_digest=previous_from_json(cp.get("previous")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        report.faults.append(f"检查点格式不对：{exc}")
        return None
    name = f"检查点 #{checkpoint.id}"
    if isinstance(keys, Keyring):
        choice = keys.key_for(checkpoint.key_id, checkpoint.created_at)
        if choice.public_key is None:
            report.faults.append(f"{name}：{choice.problem}")
            return None
        public_key = choice.public_key
    else:
        public_key = keys
    if checkpoint.key_id != key_id(public_key):
        report.faults.append(
            f"{name}是用密钥 {checkpoint.key_id} 签的；所给的公钥是 {key_id(public_key)}"
        )
        return None
    if checkpoint.version not in VERSIONS:
        report.faults.append(f"{name}是第 {checkpoint.version} 版，本程序不认识这一版")
        return None
    if d.get("format") == DOSSIER_FORMAT_V1 and checkpoint.version != 1:
        report.faults.append(
            f"{name}是第 {checkpoint.version} 版，但格式为 {DOSSIER_FORMAT_V1} 的案卷"
            "只能带第 1 版的检查点"
        )
        return None
    if with_heads:
        report.faults.extend(checkpoint_problems(checkpoint, public_key))
    elif not signature_valid(public_key, checkpoint.statement(), checkpoint.signature):
        report.faults.append(
            f"{name}：签名与其声明不符（根哈希、记录数、时间、版本或密钥被改动，或签名是伪造的）"
        )
    return _Proven(name, checkpoint, with_heads)


def _check_head(
    report: DossierReport,
    proven: _Proven,
    chain: Chain,
    chain_id: str,
    links: list[ChainLink],
    head: Any,
    proof: Any,
) -> int:
    """A chain of the dossier against the head the checkpoint signed for it: the chain_index
    up to which the checkpoint vouches for it (0 if it does not)."""
    name, cp, noun = proven.name, proven.checkpoint, f"{chain.word} {chain_id}"
    try:
        index, digest = int(head[0]), str(head[1])
        proven_root = root_from_proof(
            leaf_name(chain.name, chain_id, cp.version), index, digest, proof
        )
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        report.faults.append(f"{name}：{noun}的链头或其默克尔证明格式不对：{exc}")
        return 0
    if proven.with_heads and cp.heads(chain).get(chain_id) != (index, digest):
        report.faults.append(f"{name}：{noun}的链头不是检查点所列的那一个")
    if proven_root != cp.merkle_root:
        report.faults.append(f"{name}：{noun}的链头和默克尔证明推不出已签名的根哈希")
    covered = 0
    by_index = {link.fields.chain_index: link for link in links}
    if index not in by_index:
        report.faults.append(
            f"{noun}：检查点签到了第 {index} 条记录，但案卷止于第 {len(links)} 条：有记录被漏掉了"
        )
    elif by_index[index].hash != digest:
        report.faults.append(
            f"{noun}：第 {index} 条记录（序号 {by_index[index].fields.seq}）不是检查点所签的那条："
            "链在这条或其之前被改写过"
        )
    else:
        covered = index
    later = [i for i in by_index if i > index]
    if later:
        report.faults.append(
            f"{noun}：第 {index + 1} 至 {max(later)} 条记录没有检查点覆盖；请签一个检查点后重新导出"
        )
    return covered


def _check_probations(
    d: dict[str, Any], report: DossierReport, proven: _Proven | None, started: set[str]
) -> None:
    """Each probation's chain on its own and against the checkpoint; and every probation the
    case's events say it started is there."""
    raw = d.get("probations")
    if not isinstance(raw, list):
        report.faults.append("案卷中没有试用期列表")
        return
    cp = d.get("checkpoint") or {}
    seen: set[str] = set()
    for entry in raw:
        try:
            pid = str(entry["probation_id"])
            links = [link_from_json(e, PROBATION_CHAIN).link for e in entry["events"]]
        except (DossierError, KeyError, TypeError) as exc:
            report.faults.append(f"案卷中有一个试用期格式不对：{exc}")
            continue
        if pid in seen:
            report.faults.append(f"试用期 {pid} 在案卷中出现了两次")
        seen.add(pid)
        report.probations += 1
        report.probation_events += len(links)
        strangers = sorted({link.fields.chain_id for link in links} - {pid})
        if strangers:
            report.faults.append(
                f"试用期 {pid}：其记录中混有其他试用期的记录：" + "、".join(strangers)
            )
        report.faults.extend(f.message for f in check_chain(pid, links, PROBATION_CHAIN).faults)
        if proven is None:
            continue  # said already: no checkpoint to prove anything with
        proof = cp.get("probation_proofs", {}).get(pid)
        if not isinstance(proof, dict):
            report.faults.append(
                f"试用期 {pid}：没有已签名的检查点覆盖它；请签一个检查点"
                "（`appointments audit checkpoint`）后重新导出"
            )
            continue
        _check_head(
            report,
            proven,
            PROBATION_CHAIN,
            pid,
            links,
            proof.get("head"),
            proof.get("merkle_proof"),
        )
    for pid in sorted(started - seen):
        report.faults.append(
            f"案件 {report.case_id}：其记录表明试用期 {pid} 已开始，但案卷中没有它的任何记录"
        )


def verify_dossier_data(
    d: dict[str, Any], keys: Keyring | Ed25519PublicKey, fmt: str
) -> DossierReport:
    """Everything a dossier claims, checked from its own content and the public key (or the
    keyring's key valid when its checkpoint was signed)."""
    report = DossierReport(fmt)
    if d.get("format") not in DOSSIER_FORMATS:
        report.faults.append(
            f"不是格式为 {DOSSIER_FORMAT} 的案卷（也不是更早的格式："
            f"{'、'.join(DOSSIER_FORMATS[:-1])}）"
        )
        return report
    report.case_id = str(d.get("case_id", ""))
    raw_events = d.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        report.faults.append("案卷中没有记录")
        return report
    try:
        events = [event_from_json(e) for e in raw_events]
    except DossierError as exc:
        report.faults.append(str(exc))
        return report
    report.events = len(events)
    strangers = sorted({e.case_id for e in events} - {report.case_id})
    if strangers:
        report.faults.append(f"案卷中混有其他案件的记录：{'、'.join(strangers)}")
    links = [e.link() for e in events]
    report.faults.extend(f.message for f in check_chain(report.case_id, links).faults)

    proven = _check_checkpoint(d, keys, report)
    if proven is not None:
        cp = d["checkpoint"]
        report.covered_through = _check_head(
            report,
            proven,
            CASE_CHAIN,
            report.case_id,
            links,
            cp.get("case_head"),
            cp.get("merkle_proof"),
        )
    if d["format"] == DOSSIER_FORMAT_V1:
        if "probations" in d:
            report.faults.append(f"格式为 {DOSSIER_FORMAT_V1} 的案卷不带试用期")
    else:
        _check_probations(d, report, proven, started_probations(events))

    derived = derived_sections(events, d["format"])
    for section in ("case", "policy", "deadlines"):
        if d.get(section) != derived[section]:
            report.faults.append(f"案卷的 {section!r} 部分与其记录所载不一致")
    return report


def verify_bundle_file(path: Path, keys: Keyring | Ed25519PublicKey) -> DossierReport:
    """Verify a package of a dossier and its files (``bundle``), offline: the dossier as a
    JSON one, then the files against their names and the events."""
    try:
        text, files, others = unpack(path.read_bytes())
        data = parse(text, "json")
    except OSError as exc:
        return DossierReport("zip", faults=[f"{path}：无法读取：{exc.strerror}"])
    except json.JSONDecodeError as exc:
        return DossierReport(
            "zip", faults=[f"{path}：案卷第 {exc.lineno} 行：不是有效的 JSON：{exc.msg}"]
        )
    except DossierError as exc:
        return DossierReport("zip", faults=[f"{path}：{exc}"])
    report = verify_dossier_data(data, keys, "zip")
    report.files = len(files)
    report.files_named = len(set(files) & set(named_by_events(data)))
    report.faults.extend(f"{path}：包中有不属于案卷的文件 {name}" for name in others)
    report.faults.extend(file_faults(data, files))
    return report


def verify_dossier_file(path: Path, keys: Keyring | Ed25519PublicKey) -> DossierReport:
    """Verify a dossier file of any of the three formats, or a package with its files,
    offline."""
    if zipfile.is_zipfile(path):
        return verify_bundle_file(path, keys)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as exc:
        return DossierReport("?", faults=[f"{path}：不是 UTF-8 编码的文本（第 {exc.start} 字节）"])
    except OSError as exc:
        return DossierReport("?", faults=[f"{path}：无法读取：{exc.strerror}"])
    fmt = sniff(text)
    try:
        data = parse(text, fmt)
    except json.JSONDecodeError as exc:
        return DossierReport(
            fmt, faults=[f"{path}：第 {exc.lineno} 行：不是有效的 JSON：{exc.msg}"]
        )
    except DossierError as exc:
        return DossierReport(fmt, faults=[f"{path}：{exc}"])
    report = verify_dossier_data(data, keys, fmt)
    if fmt != "json" and report.events:
        try:
            again = render(data, fmt)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.faults.append(f"{path}：案卷无法重新生成：{exc}")
            return report
        if again != text:
            line = _first_difference(again, text)
            report.faults.append(
                f"{path}：第 {line} 行与核验过的案卷重新生成的内容不同：文件在导出后被改动过"
            )
    return report


def _first_difference(a: str, b: str) -> int:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False), 1):
        if x != y:
            return number
    return min(len(a.splitlines()), len(b.splitlines())) + 1
