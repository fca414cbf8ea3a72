#!/usr/bin/env python3
"""Compiles sql/NNNN_*.sql into a C array of migrations (see db.h)."""
import os
import sys

out, files = sys.argv[1], sorted(sys.argv[2:], key=os.path.basename)
with open(out, "w") as f:
    f.write('#include "db.h"\n\nconst struct fl_migration fl_migrations[] = {\n')
    for path in files:
        with open(path, encoding="utf-8") as s:
            text = s.read()
        lit = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n\"\n\t\"")
        f.write('\t{ "%s",\n\t"%s" },\n' % (os.path.basename(path), lit))
    f.write("};\n\nconst unsigned fl_migration_count = %d;\n" % len(files))
