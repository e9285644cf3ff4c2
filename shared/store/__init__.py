"""DynamoDB access: keys, the table client and one repository per aggregate."""
