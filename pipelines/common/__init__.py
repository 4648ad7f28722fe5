"""Leaves every stage uses: findings (located, coded, in Chinese), errors and exit codes, hashing, Excel column
letters, compact DataFrame columns, settings of the deployment, and the one safe xlsx/CSV writer."""
