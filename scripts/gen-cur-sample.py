#!/usr/bin/env python3
"""Writes scenarios/bills/2026-11.csv: one month (November 2026) of an AWS
Cost and Usage Report for the story's cloud estate, generated from
scenarios/story/estate.toml (its sites, its "cloud" cost profile and its
node pool sized for the HPA's maximum) and the prices of
scenarios/pricebooks/hyperscaler.toml.

Most rows are the book's prices times the estate's usage, so the price
book explains them. A few rows are made to differ, as a real bill would,
and are what `cutover cost scenarios/cost-actuals.toml` should flag:
  - Hong Kong's instances at an illustrative regional price (the book
    prices every region at us-east-1's list price, as its header says);
  - EBS volumes, for which the book has no item;
and the commitments show how a CUR carries them: five of New York's nodes
under a 1-year partial-upfront reservation (DiscountedUsage, RIFee with its
amortised upfront), seven of Los Angeles's covered by a $2/h compute
savings plan (SavingsPlanCoveredUsage, SavingsPlanNegation,
SavingsPlanRecurringFee), plus a tax row and a credit. The illustrative
figures (regional price, volumes, reservation terms, tax, credit) are
assumptions of this sample, not quotes.

Run from the repository root: python3 scripts/gen-cur-sample.py
"""
import csv
import math
import tomllib
from decimal import Decimal, ROUND_HALF_UP

ESTATE = "scenarios/story/estate.toml"
BOOK = "scenarios/pricebooks/hyperscaler.toml"
OUT = "scenarios/bills/2026-11.csv"
HOURS = 720  # November: 30 days
START, END = "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"

# Each site's AWS region and the prefix CUR usage types carry there
# (us-east-1 has none). The four mainland-China sites are shown in AWS's
# China regions for the sample; a real account bills those apart.
REGIONS = {
    "ny1": ("us-east-1", ""), "la1": ("us-west-1", "USW1-"),
    "ams1": ("eu-west-1", "EU-"), "hkg1": ("ap-east-1", "APE1-"),
    "szx1": ("cn-northwest-1", "CNW1-"), "hgh1": ("cn-north-1", "CNN1-"),
    "ctu1": ("cn-northwest-1", "CNW1-"), "wuh1": ("cn-north-1", "CNN1-"),
    "syd1": ("ap-southeast-2", "APS2-"),
}
HKG_RATE = Decimal("0.4760")  # illustrative Hong Kong price for m5.2xlarge
EBS_GB_MONTH, EBS_RATE = 1500, Decimal("0.08")  # illustrative gp3 volumes at ny1
RI_COUNT, RI_UPFRONT, RI_HOURLY = 5, Decimal("1200"), Decimal("0.132")
SP_HOURLY, SP_NODES = Decimal("2.00"), 7
TAX, CREDIT = Decimal("1250.00"), Decimal("-500.00")

COLUMNS = [
    "identity/LineItemId", "identity/TimeInterval", "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate", "lineItem/UsageAccountId", "lineItem/LineItemType",
    "lineItem/UsageStartDate", "lineItem/UsageEndDate", "lineItem/ProductCode",
    "lineItem/UsageType", "lineItem/Operation", "lineItem/UsageAmount",
    "lineItem/CurrencyCode", "lineItem/UnblendedRate", "lineItem/UnblendedCost",
    "lineItem/LineItemDescription", "product/region", "product/instanceType",
    "pricing/unit", "reservation/AmortizedUpfrontFeeForBillingPeriod",
    "savingsPlan/SavingsPlanEffectiveCost",
]


def cents(x):
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def main():
    with open(ESTATE, "rb") as f:
        estate = tomllib.load(f)
    with open(BOOK, "rb") as f:
        book = {s["id"]: s for s in tomllib.load(f)["sku"]}
    price = {k: Decimal(v["on_demand"].split()[0]) for k, v in book.items() if "on_demand" in v}
    profile = next(p for p in estate["costs"]["profiles"] if p["name"] == "cloud")
    per_node = int(float(estate["nodes"]["allocatable_cpu"].rstrip("m")) / 1000 / float(estate["deployment"]["cpu_request"]))
    nodes = math.ceil(estate["hpa"]["max_replicas"] / per_node)
    count = {l["sku"]: l["count"] for l in profile["lines"] if "count" in l}
    volume = {l["sku"]: int(l["volume"].rstrip("TB")) * 1000 for l in profile["lines"] if "volume" in l}
    egress_gb = int(profile["egress"]["monthly"].rstrip("TB")) * 1000
    sites = [s["tag"] for s in estate["sites"]]
    rows = []

    def row(kind, product, usage_type, op, amount, unit, rate, cost, desc, region="", itype="", ri="", sp=""):
        rows.append([f"{len(rows) + 1:08x}", f"{START}/{END}", START, END, "123456789012", kind,
                     START, END, product, usage_type, op, str(amount), "USD", str(rate),
                     str(cost), desc, region, itype, unit, ri, sp])

    # Internet egress: the book's bands apply to the account's month.
    tiers = book["internet-egress"]["tier"]
    total_gb, below, egress_total = egress_gb * len(sites), 0, Decimal(0)
    for t in tiers:
        top = t.get("up_to", total_gb)
        q = max(0, min(total_gb, top) - below)
        egress_total += q * Decimal(t["price"].split()[0])
        below = top
    share = cents(egress_total / len(sites))
    for i, site in enumerate(sites):
        region, p = REGIONS[site]
        n_od = nodes
        if site == "ny1":
            n_od -= RI_COUNT
            h = RI_COUNT * HOURS
            row("DiscountedUsage", "AmazonEC2", f"{p}BoxUsage:m5.2xlarge", "RunInstances", h, "Hrs", 0, 0,
                "Linux/UNIX (Amazon VPC), m5.2xlarge reserved instance applied", region, "m5.2xlarge")
            row("RIFee", "AmazonEC2", f"{p}HeavyUsage:m5.2xlarge", "RunInstances", h, "Hrs", RI_HOURLY,
                RI_HOURLY * h, "USD 0.132 hourly fee per Linux/UNIX (Amazon VPC), m5.2xlarge instance",
                region, "m5.2xlarge", ri=cents(RI_COUNT * RI_UPFRONT / 12))
            row("Usage", "AmazonEC2", f"{p}EBS:VolumeUsage.gp3", "CreateVolume-Gp3", EBS_GB_MONTH, "GB-Mo",
                EBS_RATE, EBS_RATE * EBS_GB_MONTH, "USD 0.08 per GB-month of gp3 provisioned storage", region)
        if site == "la1":
            n_od -= SP_NODES
            h = SP_NODES * HOURS
            od = price["m5.2xlarge"]
            sp_rate = Decimal(book["m5.2xlarge"]["reserved_1y"].split()[0])
            row("SavingsPlanCoveredUsage", "AmazonEC2", f"{p}BoxUsage:m5.2xlarge", "RunInstances", h, "Hrs",
                od, od * h, "USD 0.384 per On Demand Linux m5.2xlarge Instance Hour", region, "m5.2xlarge",
                sp=sp_rate * h)
            row("SavingsPlanNegation", "AmazonEC2", f"{p}BoxUsage:m5.2xlarge", "RunInstances", h, "Hrs",
                -od, -od * h, "SavingsPlanNegation used by AccountId : 123456789012", region, "m5.2xlarge")
        rate = HKG_RATE if site == "hkg1" else price["m5.2xlarge"]
        h = n_od * HOURS
        row("Usage", "AmazonEC2", f"{p}BoxUsage:m5.2xlarge", "RunInstances", h, "Hrs", rate, rate * h,
            f"USD {rate} per On Demand Linux m5.2xlarge Instance Hour", region, "m5.2xlarge")
        h = count["eks-cluster"] * HOURS
        row("Usage", "AmazonEKS", f"{p}AmazonEKS-Hours:perCluster", "CreateOperation", h, "Hrs",
            price["eks-cluster"], price["eks-cluster"] * h, "Amazon EKS cluster usage", region)
        sku = "rds-postgres-db.r8g.xlarge-multi-az"
        h = count[sku] * HOURS
        row("Usage", "AmazonRDS", f"{p}Multi-AZUsage:db.r8g.xlarge", "CreateDBInstance:0014", h, "Hrs",
            price[sku], price[sku] * h, "PostgreSQL, db.r8g.xlarge Multi-AZ instance hour", region, "db.r8g.xlarge")
        h = count["nat-gateway-hour"] * HOURS
        row("Usage", "AmazonEC2", f"{p}NatGateway-Hours", "NatGateway", h, "Hrs", price["nat-gateway-hour"],
            price["nat-gateway-hour"] * h, "NAT Gateway hour", region)
        for sku, ut, product, desc in [
            ("nat-gateway-gb", "NatGateway-Bytes", "AmazonEC2", "NAT Gateway data processed"),
            ("inter-region", "AWS-Out-Bytes", "AWSDataTransfer", "data transfer to other regions"),
            ("inter-zone", "DataTransfer-Regional-Bytes", "AWSDataTransfer", "regional data transfer between zones"),
        ]:
            gb = volume[sku]
            row("Usage", product, f"{p}{ut}", "", gb, "GB", price[sku], price[sku] * gb, desc, region)
        # The egress bands' total spread evenly; the first site takes the cents left over.
        cost = share if i else egress_total - share * (len(sites) - 1)
        row("Usage", "AWSDataTransfer", f"{p}DataTransfer-Out-Bytes", "", egress_gb, "GB",
            cents(cost / egress_gb * 100) / 100, cost, "data transfer out to the internet", region)
    h = Decimal(HOURS)
    row("SavingsPlanRecurringFee", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", "", HOURS, "Hrs",
        SP_HOURLY, SP_HOURLY * h, "1 year No Upfront Compute Savings Plan", "")
    row("Tax", "AmazonEC2", "", "", 0, "", "", TAX, "Tax for product code AmazonEC2", "")
    row("Credit", "AmazonEC2", "", "", 0, "", "", CREDIT, "AWS credits", "")
    with open(OUT, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)


if __name__ == "__main__":
    main()
