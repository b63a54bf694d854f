"""cnnlab study ...: the lecture's experiments, generated from STUDIES; each writes a table,
figures, result.json and a report into a fresh --out folder."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

from jsonargparse import ArgumentParser

from cnnlab.cli.common import config_from, console, parser_for, table
from cnnlab.core.io import free_folder
from cnnlab.studies import STUDIES

GROUP_HELP = {"autoencoder": "compression, denoising, features, checkerboard"}


def register(sub: Any) -> dict:
    study = ArgumentParser(description="the lecture's experiments, measured", exit_on_error=False)
    sub.add_subcommand("study", study, help="run a study (init, transfer, autoencoder, rl, locate)")
    ssub = study.add_subcommands(dest="study", required=True)
    groups: dict[str, Any] = {}
    for e in STUDIES:  # the entries' config and help only: no study (nor torch) is imported
        group, _, name = e.name.rpartition(" ")
        p = parser_for(e.config, e.help)
        if not group:
            ssub.add_subcommand(name, p, help=e.help)
            continue
        if group not in groups:
            g = ArgumentParser(description=f"{group} studies", exit_on_error=False)
            ssub.add_subcommand(group, g, help=GROUP_HELP.get(group, f"{group} studies"))
            groups[group] = g.add_subcommands(dest="which", required=True)
        groups[group].add_subcommand(name, p, help=e.help)
    return {"study": run_study}


def run_study(ns: Any) -> int:
    name, options = ns.study, ns[ns.study]
    if name not in STUDIES:  # a group: the study is one level down
        name, options = f"{name} {options.which}", options[options.which]
    entry = STUDIES.get(name)
    t0 = time.perf_counter()
    cfg = config_from(options, entry.config)  # checked before the study module is imported
    study = entry.factory
    if not getattr(cfg, "resume", False):  # a study that resumes continues in its folder
        cfg = replace(cfg, out=str(free_folder(cfg.out)))
    result = study.run(cfg, log=lambda s: console.print(s, highlight=False))
    headers, body = study.table(result)
    text = tuple(i % len(headers) for i in study.text)
    console.print(table(headers, body, study.title, text=text))
    if study.legend:
        console.print(study.legend, highlight=False)
    path = study.report(result, cfg.out)
    (path.parent / "result.json").write_text(json.dumps(result.to_dict(), indent=1))
    md = path.parent / "table.md"
    if not md.is_file():  # the studies without a Markdown table of their own
        from cnnlab.viz.report import Table

        md.write_text(Table(headers, body).markdown())
    console.print(f"table: {md}", highlight=False)
    console.print(f"report: {path.resolve()}   ({time.perf_counter() - t0:.0f} s)")
    return 0
