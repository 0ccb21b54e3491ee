def test_tree_builds(tree):
    assert tree.grid1.path == "3205.320583.001.001.01"
    assert tree.building1.households == 24
