#!/bin/bash
# Reference solution: aggregate the completed, de-duplicated orders per region.
set -euo pipefail
python3 - <<'PYEOF'
import csv
from decimal import Decimal

seen = set()
totals = {}
with open("/app/sales.csv", newline="") as f:
    for row in csv.DictReader(f):
        if not row.get("order_id") or row["status"].strip().lower() != "completed":
            continue
        if row["order_id"] in seen:
            continue
        seen.add(row["order_id"])
        region = row["region"].strip().capitalize()
        price = Decimal(row["unit_price"].replace("$", "").replace(",", ""))
        qty = int(row["quantity"])
        orders, units, revenue = totals.get(region, (0, 0, Decimal(0)))
        totals[region] = (orders + 1, units + qty, revenue + qty * price)

ranked = sorted(totals.items(), key=lambda kv: (-kv[1][2], kv[0]))
with open("/app/report.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["region", "orders", "units", "revenue"])
    for region, (orders, units, revenue) in ranked:
        w.writerow([region, orders, units, f"{revenue:.2f}"])
    w.writerow(["TOTAL", sum(v[0] for v in totals.values()), sum(v[1] for v in totals.values()),
                f"{sum(v[2] for v in totals.values()):.2f}"])
PYEOF
