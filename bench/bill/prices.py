"""AWS list prices, us-east-1, as read on READ_ON (stored copies of the pages; check the live
pages before quoting a figure outside this repository). Free tiers are left out: the bill is the
marginal cost of traffic, not a first year's account.

Each constant names its page. Where only a third-party page carried the figure it says so.
"""

from __future__ import annotations

READ_ON = "2026-12-01"

# API Gateway HTTP APIs: $1.00 per million requests for the first 300 million a month ($0.90
# after), metered in 512 KB increments. https://aws.amazon.com/api-gateway/pricing/ (figures as
# quoted by learnaws.org/2021/01/10/api-gateway-pricing and awsforengineers.com, May 2025).
API_GATEWAY_HTTP_PER_MILLION = 1.00

# Lambda, arm64: $0.0000133334 per GB-second (first 7.5 billion GB-s a month), $0.20 per million
# requests; duration rounded up to the millisecond. https://aws.amazon.com/lambda/pricing/
LAMBDA_ARM_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
# Since 1 August 2025 the INIT phase of on-demand ZIP functions on managed runtimes is billed
# like invocation time ("AWS Lambda standardizes billing for INIT Phase", AWS Compute Blog,
# https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase). The same
# post: cold starts "typically occur in under 1% of invocations".
LAMBDA_INIT_BILLED = True
COLD_START_RATE = 0.01
# SnapStart for Python (only when the template turns it on): a restore costs per GB of the
# function's memory, and each cached snapshot per GB-second while its version is active.
# Approximate figures from a third-party page (awsnegotiations.com, "Lambda SnapStart Cost
# Impact"); https://aws.amazon.com/lambda/pricing/ has the exact ones.
SNAPSTART_RESTORE_PER_GB = 0.0001397998
SNAPSTART_CACHE_PER_GB_SECOND = 0.0000015046

# DynamoDB on-demand, after the 50 % cut of 1 November 2024: $0.625 per million write request
# units, $0.125 per million read request units (https://aws.amazon.com/dynamodb/pricing/on-demand/;
# AWS News Blog post on on-demand, updated 31 January 2025; airbyte.com's DynamoDB pricing
# page, July 2025). Streams read by Lambda triggers are free (GetRecords from an event source
# mapping is not billed).
DYNAMODB_PER_MILLION_WRU = 0.625
DYNAMODB_PER_MILLION_RRU = 0.125

# CloudWatch Logs ingestion, Standard class: $0.50 per GB. Since 1 May 2025 Lambda's logs are
# billed as vended logs in volume tiers whose first tier (to 10 TB a month) is the same $0.50
# (duckbillgroup.com on the change; https://aws.amazon.com/cloudwatch/pricing/). The API's
# access logs are ordinary custom logs at $0.50. A log event is counted as its bytes plus 26
# bytes (PutLogEvents' event size; assumed for billing too: an upper bound).
LOGS_PER_GB_INGESTED = 0.50
LOG_EVENT_OVERHEAD_BYTES = 26
GB = 1024**3

# X-Ray: $5.00 per million traces recorded (https://aws.amazon.com/xray/pricing/). Lambda with
# `Tracing: Active` samples with X-Ray's default rule: the first request each second (the
# reservoir) and 5 % of the rest; assumed per function. `PassThrough` traces only requests that
# arrive with a sampled trace header: an HTTP API sends none and a stream has none, so nothing.
XRAY_PER_MILLION_TRACES = 5.00
XRAY_RESERVOIR_PER_SECOND = 1.0
XRAY_FIXED_RATE = 0.05

# Not in the five, shown apart: SNS mobile push, $0.50 per million notifications
# (https://aws.amazon.com/sns/pricing/; factualminds.com's SNS pricing page), and data transfer
# out to the internet, $0.09 per GB for the first 10 TB a month (apigatewaycost.com;
# https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer).
SNS_MOBILE_PUSH_PER_MILLION = 0.50
DATA_OUT_PER_GB = 0.09
