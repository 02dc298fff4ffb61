"""``harness publish``: a static results site (like asv's) built from results folders.

:mod:`harness.site.data` is the analysis side (runs found and grouped by suite
and machine, each group's history judged by :mod:`harness.regression.history`);
:mod:`harness.site.svg` and :mod:`harness.site.pages` render it (inline SVG, a
few lines of vanilla JavaScript, no network at view time);
:mod:`harness.site.publish` writes it incrementally and atomically.
"""
