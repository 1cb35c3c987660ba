/* region: the body regions the case report treats, as layer presets with their sources.
 *
 * The case report lists tendinitis, tendinopathies, bursitis, low back pain, tension-type
 * headache and muscle pain, and says the guided technique applies to any region
 * (seed-case-report.txt). A region preset is the layer stack of one region (skin, fat, fascia,
 * tendon, muscle), the bones close under the skin there, the indication, and for every layer
 * the published figure it rests on or the assumption it makes where none was found
 * (docs/authoring.md "Regions" has the table). Adolescent presets exist only where a source
 * gives adolescent figures (thoracic and lumbar back, shoulder); region_preset_get says which.
 *
 * Pure static data: region_preset_get returns a pointer to a constant table entry; nothing is
 * allocated. region_apply writes the preset into a scenario the caller owns. */
#ifndef MESOSIM_REGION_H
#define MESOSIM_REGION_H

#include <stdbool.h>

#include "phantom.h"
#include "scenario.h"

typedef enum region_id {
    REGION_THORACIC = 0, /* interscapular / upper back */
    REGION_LUMBAR,       /* low back, the case report's thoracolumbar patients */
    REGION_NECK,         /* posterior neck and upper trapezius: tension-type headache */
    REGION_SHOULDER,     /* lateral shoulder over the deltoid: rotator cuff tendinopathy */
    REGION_ELBOW,        /* lateral elbow: epicondylitis, thin skin over tendon and bone */
    REGION_KNEE,         /* peri-patellar knee: patellar tendon and patella close under the skin */
    REGION_COUNT
} region_id;

#define REGION_MAX_BONES 2

typedef struct region_layer {
    tissue_id tissue;
    double thickness_mm; /* ignored for the last (bottom) layer */
    const char *source;  /* the figure and its source, or the assumption */
} region_layer;

typedef struct region_preset {
    region_id id;
    bool adolescent;
    const char *key;        /* patient.region in a scenario: "neck", "lateral_elbow", ... */
    const char *title;      /* "Lateral elbow" */
    const char *indication; /* what the case report treats there */
    region_layer layers[PHANTOM_MAX_LAYERS];
    int n_layers;
    phantom_bone_def bones[REGION_MAX_BONES];
    int n_bones;
    const char *bone_source; /* NULL when no bone */
} region_preset;

/* The preset of region id for adults (adolescent false) or adolescents; NULL when the id is
 * out of range or no source gives adolescent figures for that region. */
const region_preset *region_preset_get(region_id id, bool adolescent);
/* The key of a region ("thoracic", "lumbar", "neck", "shoulder", "lateral_elbow", "knee"),
 * "unknown" out of range. */
const char *region_name(region_id id);
/* False when name is no region key. */
bool region_from_name(const char *name, region_id *out);

/* Skin (epidermis + dermis) and subcutaneous fat (both fat layers) of a preset, in mm. */
double region_skin_mm(const region_preset *r);
double region_fat_mm(const region_preset *r);
/* Depth of the top of layer i of the preset at rest (layer n_layers: its bottom layer's top). */
double region_layer_top_mm(const region_preset *r, int i);

/* Puts the preset into s: the phantom's layers (slow variation 0.05 on dermis and fat, none
 * elsewhere), bones, patient.region and the layers' source texts. Vessels, inclusions, the
 * plan and everything else stay as they are: a caller moves them if the new layers need it. */
void region_apply(const region_preset *r, scenario *s);

#endif
