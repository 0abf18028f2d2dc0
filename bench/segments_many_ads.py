"""Splits every ad of a generated export into 512 sub-ads, for the segmentation
benchmark's scale (about 100k ads over the year's 20M spend rows).

Spend rows, leads and orders keep everything but `ad`, which gains a suffix
`-k` with k = row number modulo 512 (spend) or a hash of the id (leads,
orders): each ad's spend, leads and purchases spread evenly over its sub-ads.
"""
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

source, target = sys.argv[1], sys.argv[2]


def split(table, key):
    ad = pc.cast(table.column("ad"), pa.string())
    if key is None:
        k = pc.cast(pc.bit_wise_and(pa.array(range(table.num_rows), pa.int64()), 511), pa.string())
    else:
        ids = table.column(key).to_pylist()
        k = pa.array([str(hash(i) % 512) for i in ids])
    ad = pc.binary_join_element_wise(ad, k, "-")
    return table.set_column(table.schema.get_field_index("ad"), "ad", ad)


for name, key in [("spend", None), ("leads", "lead_id"), ("orders", "order_id")]:
    table = pq.read_table(f"{source}/{name}.parquet")
    pq.write_table(split(table, key), f"{target}/{name}.parquet")
    print(name, table.num_rows)
