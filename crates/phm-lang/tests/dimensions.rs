//! The engine's cell dimensions (`phm_model::Dimension`) are the language's built-in series of
//! the same names: a profile by `sex` means what `sex` means in a definition.

use std::collections::BTreeMap;

use phm_model::Dimension;

#[test]
fn every_cell_dimension_is_the_built_in_series_of_its_name() {
    for d in Dimension::PROFILE {
        let (expr, ty) = phm_lang::bind_expression(d.name(), &BTreeMap::new(), &[]).expect("a built-in name");
        assert_eq!(expr, d.expr(), "{}", d.name());
        assert_eq!(ty, d.ty(), "{}", d.name());
    }
}
