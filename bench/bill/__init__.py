"""The bill (`python -m bench --only bill`): what a million mixed calls of the mobile app cost.

- `sizing`: DynamoDB's sizing rules (item sizes, read and write units, index writes). Pure.
- `prices`: AWS list prices (us-east-1) with where and when they were read. Constants.
- `model`: from measured figures and prices to dollars per million calls. Pure.
- `day`: the mobile day: the routes, their weights, the seeded person and their counterpart.
- `measure`: the real handlers on moto in-process, every DynamoDB request, stream record,
  stream consumer invocation and log byte recorded.
"""
