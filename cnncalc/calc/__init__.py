"""`cnncalc calc` and `cnncalc solve`: one layer with its worked formulas, exact numeric
convolution/pooling on small matrices, and the inverse problem (which windows map n to m)."""
