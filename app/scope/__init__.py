"""Scope and binding (spec §1b): which text is a claim about which deployment, decided once per review
before rules run and shared by every rule, built-in or third-party.

- `classes`: the default exclusion classes (lockfiles, tests, generated, examples, logs, changelogs).
- `binding`: `Scope`, which binds each file to a deployment (or says why none), and each line of a bound
  file to it or to another target (another provider, another per-target folder, a catalog row).
"""
