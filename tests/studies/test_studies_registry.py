"""Contract tests over STUDIES: every study has a config with an --out folder, a command
generated from the registry (`cnnlab study NAME...`), and a runner, table and report."""

from __future__ import annotations

import dataclasses

import pytest

from cnnlab.cli import main
from cnnlab.studies import STUDIES

NAMES = STUDIES.names()


def test_the_lectures_studies_are_registered():
    assert {"init", "transfer", "autoencoder compression"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_study_has_a_config_a_command_and_its_parts(name: str, capsys):
    entry = STUDIES.get(name)
    fields = {f.name for f in dataclasses.fields(entry.config)}
    assert "out" in fields and entry.help
    study = entry.factory
    assert callable(study.run) and callable(study.table) and callable(study.report)
    assert len(study.legend) > 40, "say what the table's columns mean (Study.legend)"
    assert main(["study", *name.split(), "--help"]) == 0
    assert entry.help.split()[0] in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_study_rejects_an_unknown_option_in_one_line(name: str, capsys):
    assert main(["study", *name.split(), "--no_such_option", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no_such_option" in err
