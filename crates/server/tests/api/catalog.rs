//! The service catalog (SPEC §5): categories, items, forms, visibility by
//! role and publication, per role, on both databases.

use crate::itsm_support::*;
use serde_json::json;
use tier0_testkit::isolation::{Probe, assert_isolated};
use tier0_testkit::{TestApp, dual_test};

async fn catalog_management_per_role(app: &TestApp) {
    let d = desk(app).await;
    // Categories: catalog managers create, everyone with itsm:read lists.
    let hw = d
        .admin
        .api
        .post("/api/itsm/catalog/categories", json!({"name": "Hardware", "description": "Devices", "position": 2}))
        .await;
    hw.expect(201);
    let sw = d.admin.api.post("/api/itsm/catalog/categories", json!({"name": "Software", "position": 1})).await;
    sw.expect(201);
    let cats = d.alice.api.get("/api/itsm/catalog/categories").await;
    cats.expect(200);
    assert_eq!(ids(&cats.json()), vec![id(&sw.json()), id(&hw.json())], "by position");
    assert!(cats.json()["next_cursor"].is_null());
    for who in [&d.alice, &d.agent, &d.operator] {
        who.api.post("/api/itsm/catalog/categories", json!({"name": "Nope"})).await.expect_error(403, "forbidden");
        who.api.post("/api/itsm/catalog", json!({"name": "Nope"})).await.expect_error(403, "forbidden");
    }
    app.client().get("/api/itsm/catalog").await.expect_error(401, "unauthorized");
    app.client().post("/api/itsm/catalog", json!({"name": "x"})).await.expect_error(401, "unauthorized");
    d.admin.api.post("/api/itsm/catalog/categories", json!({"name": " "})).await.expect_error(422, "validation_failed");
    let renamed =
        d.admin.api.patch(&format!("/api/itsm/catalog/categories/{}", id(&sw.json())), json!({"name": "Apps"})).await;
    renamed.expect(200);
    assert_eq!((renamed.json()["name"].as_str(), renamed.json()["position"].as_i64()), (Some("Apps"), Some(1)));

    // Items with forms and visibility.
    let laptop = item(
        &d.admin,
        json!({"name": "Laptop", "description": "A work laptop", "category_id": id(&hw.json()), "icon": "laptop",
               "fulfillment_target_hours": 72,
               "fields": [{"key": "model", "label": "Model", "type": "select", "required": true, "options": ["13", "15"], "help": "Pick one"}]}),
    )
    .await;
    assert_eq!(laptop["fields"][0]["type"], "select");
    assert_eq!(laptop["published"], true);
    assert_eq!(laptop["requires_approval"], false);
    assert_eq!(laptop["visible_to_roles"], json!([]));
    let agents_only =
        item(&d.admin, json!({"name": "Server access", "visible_to_roles": ["fulfiller", "operator"]})).await;
    assert_eq!(agents_only["visible_to_roles"], json!(["fulfiller", "operator"]));
    let draft = item(&d.admin, json!({"name": "Draft thing", "published": false})).await;
    let software =
        item(&d.admin, json!({"name": "Editor licence", "category_id": id(&sw.json()), "description": "Text editor"}))
            .await;

    let names = |v: &serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
    };
    let alice_sees = d.alice.api.get("/api/itsm/catalog").await.json();
    assert_eq!(names(&alice_sees), vec!["Editor licence", "Laptop"]);
    let agent_sees = d.agent.api.get("/api/itsm/catalog").await.json();
    assert_eq!(names(&agent_sees), vec!["Editor licence", "Laptop", "Server access"]);
    // Admins' role is not listed, so they see what everyone sees ...
    assert_eq!(names(&d.admin.api.get("/api/itsm/catalog").await.json()), vec!["Editor licence", "Laptop"]);
    // ... unless they ask for everything.
    assert_eq!(names(&d.admin.api.get("/api/itsm/catalog?all=true").await.json()).len(), 4);
    d.alice.api.get("/api/itsm/catalog?all=true").await.expect_error(403, "forbidden");
    // Search and category filter.
    assert_eq!(names(&d.alice.api.get("/api/itsm/catalog?q=EDITOR").await.json()), vec!["Editor licence"]);
    assert_eq!(names(&d.alice.api.get("/api/itsm/catalog?q=work%20laptop").await.json()), vec!["Laptop"]);
    assert_eq!(
        names(&d.alice.api.get(&format!("/api/itsm/catalog?category_id={}", id(&hw.json()))).await.json()),
        vec!["Laptop"]
    );
    // Paging.
    let p1 = d.agent.api.get("/api/itsm/catalog?limit=2").await.json();
    assert_eq!(names(&p1), vec!["Editor licence", "Laptop"]);
    let p2 = d
        .agent
        .api
        .get(&format!("/api/itsm/catalog?limit=2&cursor={}", p1["next_cursor"].as_str().unwrap()))
        .await
        .json();
    assert_eq!(names(&p2), vec!["Server access"]);
    assert!(p2["next_cursor"].is_null());
    // Reading one: invisible and unpublished items are 404 for readers.
    d.alice.api.get(&format!("/api/itsm/catalog/{}", id(&laptop))).await.expect(200);
    d.alice.api.get(&format!("/api/itsm/catalog/{}", id(&agents_only))).await.expect_error(404, "not_found");
    d.alice.api.get(&format!("/api/itsm/catalog/{}", id(&draft))).await.expect_error(404, "not_found");
    d.agent.api.get(&format!("/api/itsm/catalog/{}", id(&draft))).await.expect_error(404, "not_found");
    d.admin.api.get(&format!("/api/itsm/catalog/{}", id(&draft))).await.expect(200);
    // ... and cannot be requested.
    for it in [&agents_only, &draft] {
        let r = d.alice.api.post("/api/itsm/requests", json!({"title": "x", "catalog_item_id": id(it)})).await;
        r.expect_error(422, "validation_failed");
    }
    // Agents may file for any published item.
    file(&d.agent, json!({"title": "x", "catalog_item_id": id(&agents_only)})).await;

    // Editing: partial, validated; publish/unpublish; null clears.
    let path = format!("/api/itsm/catalog/{}", id(&laptop));
    d.agent.api.patch(&path, json!({"name": "x"})).await.expect_error(403, "forbidden");
    let p = d
        .admin
        .api
        .patch(&path, json!({"published": false, "category_id": null, "fulfillment_target_hours": null}))
        .await;
    p.expect(200);
    let v = p.json();
    assert_eq!((v["published"].as_bool(), v["name"].as_str()), (Some(false), Some("Laptop")));
    assert!(v["category_id"].is_null() && v["fulfillment_target_hours"].is_null());
    assert_eq!(v["fields"].as_array().unwrap().len(), 1, "untouched fields stay");
    assert_eq!(names(&d.alice.api.get("/api/itsm/catalog").await.json()), vec!["Editor licence"]);
    d.admin.api.patch(&path, json!({"published": true, "visible_to_roles": ["requester"]})).await.expect(200);
    assert_eq!(names(&d.alice.api.get("/api/itsm/catalog").await.json()), vec!["Editor licence", "Laptop"]);
    assert_eq!(names(&d.agent.api.get("/api/itsm/catalog").await.json()), vec!["Editor licence", "Server access"]);
    // Deleting: gone from the catalog, still named by its requests.
    let req = file(&d.alice, json!({"title": "Editor please", "catalog_item_id": id(&software)})).await;
    d.alice.api.delete(&format!("/api/itsm/catalog/{}", id(&software))).await.expect_error(403, "forbidden");
    d.admin.api.delete(&format!("/api/itsm/catalog/{}", id(&software))).await.expect(204);
    d.admin.api.delete(&format!("/api/itsm/catalog/{}", id(&software))).await.expect_error(404, "not_found");
    d.admin.api.get(&format!("/api/itsm/catalog/{}", id(&software))).await.expect_error(404, "not_found");
    let kept = d.alice.api.get(&format!("/api/itsm/requests/{}", id(&req))).await.json();
    assert_eq!(kept["catalog_item_name"], "Editor licence");
    // Deleting a category uncategorises its items.
    d.admin.api.patch(&path, json!({"category_id": id(&hw.json())})).await.expect(200);
    d.admin.api.delete(&format!("/api/itsm/catalog/categories/{}", id(&hw.json()))).await.expect(204);
    assert!(d.admin.api.get(&path).await.json()["category_id"].is_null());
    // Changes are audited.
    let audit = d.admin.api.get("/api/audit?limit=200").await.json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for a in [
        "catalog.item_created",
        "catalog.item_updated",
        "catalog.item_deleted",
        "catalog.category_created",
        "catalog.category_deleted",
    ] {
        assert!(actions.contains(&a), "audit lacks {a}: {actions:?}");
    }
}
dual_test!(catalog_management_per_role);

/// Readers' catalog is served from memory; every change shows at once. A
/// role that items are restricted to is not deleted from under them.
async fn catalog_reads_follow_every_change(app: &TestApp) {
    let d = desk(app).await;
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
    };
    let cat = d.admin.api.post("/api/itsm/catalog/categories", json!({"name": "Access"})).await;
    cat.expect(201);
    let cat = id(&cat.json());
    assert_eq!(names(d.alice.api.get("/api/itsm/catalog/categories").await.json()), vec!["Access"]);
    let role = d.admin.api.post("/api/roles", json!({"name": "contractor", "permissions": ["itsm:read"]})).await;
    role.expect(201);
    let badge =
        item(&d.admin, json!({"name": "Door badge", "category_id": cat, "visible_to_roles": ["contractor"]})).await;
    assert_eq!(badge["visible_to_roles"], json!(["contractor"]));
    // Alice's listing is cached now; the item is not hers to see.
    assert!(names(d.alice.api.get("/api/itsm/catalog").await.json()).is_empty());
    d.alice.api.get(&format!("/api/itsm/catalog/{}", id(&badge))).await.expect_error(404, "not_found");
    // The role cannot go while the item is restricted to it (deleting it
    // must not show the item to everyone) ...
    let role_path = format!("/api/roles/{}", id(&role.json()));
    d.admin.api.delete(&role_path).await.expect_error(409, "role_in_use");
    // ... lifting the restriction shows the item at once ...
    let path = format!("/api/itsm/catalog/{}", id(&badge));
    d.admin.api.patch(&path, json!({"visible_to_roles": []})).await.expect(200);
    assert_eq!(names(d.alice.api.get("/api/itsm/catalog").await.json()), vec!["Door badge"]);
    d.admin.api.delete(&role_path).await.expect(204);
    // ... and a deleted item's restriction does not hold the role.
    let role = d.admin.api.post("/api/roles", json!({"name": "visitor", "permissions": ["itsm:read"]})).await;
    role.expect(201);
    let gone = item(&d.admin, json!({"name": "Visitor pass", "visible_to_roles": ["visitor"]})).await;
    d.admin.api.delete(&format!("/api/itsm/catalog/{}", id(&gone))).await.expect(204);
    d.admin.api.delete(&format!("/api/roles/{}", id(&role.json()))).await.expect(204);
    let got = d.alice.api.get(&path).await;
    got.expect(200);
    assert_eq!(got.json()["visible_to_roles"], json!([]));
    // Renames, new items and deleted categories show at once.
    d.admin.api.patch(&path, json!({"name": "Building badge"})).await.expect(200);
    item(&d.admin, json!({"name": "Alarm code"})).await;
    assert_eq!(names(d.alice.api.get("/api/itsm/catalog").await.json()), vec!["Alarm code", "Building badge"]);
    d.admin.api.delete(&format!("/api/itsm/catalog/categories/{cat}")).await.expect(204);
    assert!(names(d.alice.api.get("/api/itsm/catalog/categories").await.json()).is_empty());
    d.alice.api.get(&format!("/api/itsm/catalog?category_id={cat}")).await.expect(200);
    assert!(d.alice.api.get(&path).await.json()["category_id"].is_null());
}
dual_test!(catalog_reads_follow_every_change);

async fn catalog_validation(app: &TestApp) {
    let d = desk(app).await;
    let bad = d
        .admin
        .api
        .post(
            "/api/itsm/catalog",
            json!({"name": "", "fulfillment_target_hours": 0,
                   "fields": [{"key": "Bad Key", "label": "", "type": "colour"},
                              {"key": "pick", "label": "Pick", "type": "select", "options": []},
                              {"key": "pick", "label": "Again", "type": "text"}]}),
        )
        .await;
    bad.expect_error(422, "validation_failed");
    let f = &bad.json()["error"]["fields"];
    for k in [
        "name",
        "fulfillment_target_hours",
        "fields[0].key",
        "fields[0].label",
        "fields[0].type",
        "fields[1].options",
        "fields[2].key",
    ] {
        assert!(f[k].is_string(), "{k} not reported: {f}");
    }
    let many: Vec<_> = (0..51).map(|i| json!({"key": format!("f{i}"), "label": "F", "type": "text"})).collect();
    d.admin
        .api
        .post("/api/itsm/catalog", json!({"name": "Too many", "fields": many}))
        .await
        .expect_error(422, "validation_failed");
    d.admin
        .api
        .post("/api/itsm/catalog", json!({"name": "x".repeat(101)}))
        .await
        .expect_error(422, "validation_failed");
    d.admin
        .api
        .post("/api/itsm/catalog", json!({"name": "x", "fields": "nope"}))
        .await
        .expect_error(422, "validation_failed");
    d.admin
        .api
        .post("/api/itsm/catalog", json!({"name": "x", "visible_to_roles": ["no such role"]}))
        .await
        .expect_error(422, "validation_failed");
    // Every field type round-trips and validates submitted values.
    let form = item(
        &d.admin,
        json!({"name": "Everything", "fields": [
            {"key": "t", "label": "T", "type": "text"},
            {"key": "ta", "label": "TA", "type": "textarea"},
            {"key": "n", "label": "N", "type": "number", "required": true},
            {"key": "d", "label": "D", "type": "date"},
            {"key": "s", "label": "S", "type": "select", "options": ["a", "b"]},
            {"key": "m", "label": "M", "type": "multiselect", "options": ["x", "y", "z"]},
            {"key": "c", "label": "C", "type": "checkbox", "required": true},
            {"key": "e", "label": "E", "type": "email"}
        ]}),
    )
    .await;
    let ok = file(
        &d.alice,
        json!({"title": "All fields", "catalog_item_id": id(&form),
               "fields": {"t": "hi", "ta": "a\nb", "n": "42", "d": "2031-12-31", "s": "b", "m": ["z", "x"], "c": true, "e": "A@B.co"}}),
    )
    .await;
    assert_eq!(
        ok["fields"],
        json!({"t": "hi", "ta": "a\nb", "n": 42, "d": "2031-12-31", "s": "b", "m": ["x", "z"], "c": true, "e": "a@b.co"})
    );
    let bad = d
        .alice
        .api
        .post(
            "/api/itsm/requests",
            json!({"title": "Bad", "catalog_item_id": id(&form),
                   "fields": {"t": "x".repeat(1001), "n": "x", "d": "31/12/2031", "s": "c", "m": ["w"], "c": false, "e": "nope"}}),
        )
        .await;
    bad.expect_error(422, "validation_failed");
    let f = &bad.json()["error"]["fields"];
    for k in ["fields.t", "fields.n", "fields.d", "fields.s", "fields.m", "fields.c", "fields.e"] {
        assert!(f[k].is_string(), "{k} not reported: {f}");
    }
    d.alice
        .api
        .post("/api/itsm/requests", json!({"title": "Bad", "catalog_item_id": id(&form), "fields": [1, 2]}))
        .await
        .expect_error(422, "validation_failed");
}
dual_test!(catalog_validation);

async fn catalog_is_tenant_isolated(app: &TestApp) {
    let d = desk(app).await;
    let b = app.tenant("beta").await;
    let b_cat = b.api.post("/api/itsm/catalog/categories", json!({"name": "Beta cat"})).await;
    b_cat.expect(201);
    let b_wf = b
        .api
        .post("/api/itsm/workflows", json!({"name": "Beta wf", "stages": [{"approvers": {"users": [b.id]}}]}))
        .await;
    b_wf.expect(201);
    let b_item = item(&b, json!({"name": "Beta item", "category_id": id(&b_cat.json())})).await;
    let b_role = b.api.get("/api/roles").await.json()[0]["id"].as_str().unwrap().to_owned();
    let a_item = laptop_item(&d.admin).await;
    let foreign = vec![id(&b_cat.json()), id(&b_wf.json()), id(&b_item), "Beta item".to_owned(), "Beta cat".to_owned()];
    for who in [&d.admin, &d.alice] {
        assert_isolated(
            &who.api,
            &foreign,
            &[
                Probe::List("/api/itsm/catalog".into()),
                Probe::List("/api/itsm/catalog?q=beta".into()),
                Probe::List("/api/itsm/catalog/categories".into()),
                Probe::Get(format!("/api/itsm/catalog/{}", id(&b_item))),
                Probe::Get(format!("/api/itsm/catalog/categories/{}", id(&b_cat.json()))),
            ],
        )
        .await;
    }
    assert_isolated(
        &d.admin.api,
        &foreign,
        &[
            Probe::List("/api/itsm/catalog?all=true".into()),
            Probe::List(format!("/api/itsm/catalog?category_id={}", id(&b_cat.json()))),
            Probe::List("/api/itsm/workflows".into()),
            Probe::Get(format!("/api/itsm/workflows/{}", id(&b_wf.json()))),
        ],
    )
    .await;
    // Tenant B's ids inside tenant A's bodies: 422 (or 404), nothing written.
    let count = |v: serde_json::Value| v["items"].as_array().unwrap().len();
    let before = count(d.admin.api.get("/api/itsm/catalog?all=true").await.json());
    for body in [
        json!({"name": "X", "category_id": id(&b_cat.json())}),
        json!({"name": "X", "workflow_definition_id": id(&b_wf.json())}),
        json!({"name": "X", "visible_to_roles": [b_role]}),
    ] {
        d.admin.api.post("/api/itsm/catalog", body.clone()).await.expect_error(422, "validation_failed");
        d.admin
            .api
            .patch(&format!("/api/itsm/catalog/{}", id(&a_item)), body)
            .await
            .expect_error(422, "validation_failed");
    }
    assert_eq!(count(d.admin.api.get("/api/itsm/catalog?all=true").await.json()), before);
    let unchanged = d.admin.api.get(&format!("/api/itsm/catalog/{}", id(&a_item))).await.json();
    assert!(unchanged["category_id"].is_null() && unchanged["workflow_definition_id"].is_null());
    assert_eq!(unchanged["visible_to_roles"], json!([]));
    d.admin
        .api
        .patch(&format!("/api/itsm/catalog/{}", id(&b_item)), json!({"name": "mine"}))
        .await
        .expect_error(404, "not_found");
    d.admin.api.delete(&format!("/api/itsm/catalog/{}", id(&b_item))).await.expect_error(404, "not_found");
    d.admin
        .api
        .patch(&format!("/api/itsm/catalog/categories/{}", id(&b_cat.json())), json!({"name": "mine"}))
        .await
        .expect_error(404, "not_found");
    d.alice
        .api
        .post("/api/itsm/requests", json!({"title": "x", "catalog_item_id": id(&b_item)}))
        .await
        .expect_error(422, "validation_failed");
    assert_eq!(b.api.get(&format!("/api/itsm/catalog/{}", id(&b_item))).await.json()["name"], "Beta item");
}
dual_test!(catalog_is_tenant_isolated);
