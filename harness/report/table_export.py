"""CSV and LaTeX export of the report's tables (as strings; the command writes the files)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from harness.report.format import cells, plain

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "★": r"$\star$", "≈": r"$\approx$", "∞": r"$\infty$", "×": r"$\times$",
}


def to_csv(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """File name -> CSV text, one per non-empty table (raw values; units in ``units.csv``)."""
    from harness.analysis import unit

    out = {}
    units = []
    for name, df in tables.items():
        if df.empty:
            continue
        out[f"{name}.csv"] = df.to_csv(index=False)
        units += [{"table": name, "column": c, "unit": unit(c)} for c in df.columns]
    out["units.csv"] = pd.DataFrame(units, columns=["table", "column", "unit"]).to_csv(index=False)
    return out


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def latex_table(df: pd.DataFrame, name: str) -> str:
    """A booktabs ``tabular`` of ``df`` with units in the headers and ★/≈ marks."""
    headers, rows = cells(df)
    align = "".join("r" if any(r[i].numeric for r in rows) else "l" for i in range(len(headers)))
    lines = [
        f"% table: {latex_escape(name)}",
        r"\begin{tabular}{" + align + "}",
        r"\toprule",
        " & ".join(latex_escape(h) for h in headers) + r" \\",
        r"\midrule",
    ]
    lines += [" & ".join(latex_escape(plain(c)) for c in row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def to_latex(tables: Mapping[str, pd.DataFrame], skip: tuple[str, ...] = ("power", "learning_curves")) -> str:
    """Every non-empty table (except the long series in ``skip``) as LaTeX; needs \\usepackage{booktabs}."""
    parts = [
        "% harness report tables; \\usepackage{booktabs}. $\\star$ best, $\\approx$ estimated.",
    ]
    for name, df in tables.items():
        if name in skip or df.empty:
            continue
        parts.append(latex_table(df, name))
    return "\n".join(parts)
