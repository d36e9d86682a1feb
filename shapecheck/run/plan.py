"""A run's jobs: each target with the options its configuration and the command give it.

The command line overrides the configuration key by key: an option given on
the command line wins, one left out takes the file's `[tool.shapecheck]`
value, and one in neither keeps its default. `--size` and `sizes` merge
name by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from shapecheck.pipeline import Options
from shapecheck.run.config import Config, ConfigFinder
from shapecheck.run.discover import Target
from shapecheck.run.runner import Job

if TYPE_CHECKING:
    from dataclasses import dataclass
else:  # built on first use (deferred.py)
    from shapecheck.deferred import dataclass

_T = TypeVar("_T")


@dataclass(frozen=True)
class Given:
    """Which options the command line set (their values are in the base Options)."""

    rtol: bool = False
    atol: bool = False
    seed: bool = False
    strict: bool = False
    layout: bool = False


def options_for(base: Options, given: Given, config: Config) -> Options:
    """The options of one file: the command line over its configuration."""
    sizes = dict(config.sizes)
    sizes.update(base.sizes)
    return replace(
        base,
        sizes=tuple(sizes.items()),
        rtol=_pick(given.rtol, base.rtol, config.rtol),
        atol=_pick(given.atol, base.atol, config.atol),
        seed=_pick(given.seed, base.seed, config.seed),
        strict=_pick(given.strict, base.strict, config.strict),
        layout=_pick(given.layout, base.layout, config.layout),
    )


def _pick(given: bool, value: _T, configured: _T | None) -> _T:
    return value if given or configured is None else configured


def plan_jobs(
    targets: Sequence[Target], base: Options, given: Given, finder: ConfigFinder
) -> tuple[list[Job], dict[str, Config]]:
    """The jobs of a run, and each file's configuration by its reported name."""
    jobs = []
    configs: dict[str, Config] = {}
    for target in targets:
        config = finder.for_file(target.path)
        if config.path is not None:
            configs[target.name] = config
        jobs.append(Job(target, options_for(base, given, config), config.allow_ignore))
    return jobs, configs
