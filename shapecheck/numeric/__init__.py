"""Stage 4, numeric: values, evaluation, verification, and the code printer.

    sizes       sizes for dims that have none (no numpy)
    values      seeded draws, literals, `--at` and `--save` files
    evaluate    terms -> numpy arrays;  codegen: terms -> numpy code (no numpy)
    verify      the Verifier: forward passes, derived values, how each check runs
    batched     terms evaluated for a stack of perturbed inputs at once
    runtime     BLAS threads and garbage collection while verifying
    budget      memory estimates, sizes that fit (no numpy)
    differences full-Jacobian and random-direction finite differences
    comparison  the tolerance;  hints: kinks, and where a NaN came from
    claimcheck  a claim against the true derivative;  diagnose: how it is wrong
    verdicts    Verdict, ClaimVerdict, Mode and the check records (no numpy)
    report      verdicts -> diagnostics, `--save`; what `pipeline` calls (no numpy
                until it runs)

numpy is imported only when numeric verification runs, so a plain `check
--no-verify` starts without it.
"""
