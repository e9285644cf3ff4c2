"""Logger and Metrics, one instance each per process (Powertools, used as designed).

No Tracer: `Tracing: Active` in the template traces invocations without the X-Ray SDK, which
would cost cold-start time on every function.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()
