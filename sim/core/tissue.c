/* tissue: default acoustic properties. Every figure below comes from
 * shared/reference/tissue.md section 2a (source named per row). Where the reference has no
 * number the assumption is said. Attenuation exponent b = 1 everywhere by default: the IT'IS
 * convention when no fit is known (tissue.md, "Frequency law"). */
#include "tissue.h"

#include <math.h>
#include <string.h>

static const char *const k_names[TISSUE_COUNT] = {
    [TISSUE_GEL] = "gel",
    [TISSUE_STRATUM_CORNEUM] = "stratum_corneum",
    [TISSUE_EPIDERMIS] = "epidermis",
    [TISSUE_DERMIS] = "dermis",
    [TISSUE_FAT] = "fat",
    [TISSUE_SUPERFICIAL_FASCIA] = "superficial_fascia",
    [TISSUE_DEEP_FAT] = "deep_fat",
    [TISSUE_DEEP_FASCIA] = "deep_fascia",
    [TISSUE_MUSCLE] = "muscle",
    [TISSUE_BLOOD] = "blood",
    [TISSUE_VESSEL_WALL] = "vessel_wall",
    [TISSUE_FLUID] = "fluid",
    [TISSUE_GAS] = "gas",
    [TISSUE_STEEL] = "steel",
    [TISSUE_HAEMATOMA] = "haematoma",
    [TISSUE_BONE] = "bone",
    [TISSUE_TENDON] = "tendon",
};

tissue_table tissue_default_table(void)
{
    tissue_table tt;
    memset(&tt, 0, sizeof tt);
    /* Backscatter amplitudes are relative to dermis and follow the contrasts of the physics
     * reference run (ultrasound.md section 2: fat -14 dB, muscle -6 dB, fascia a bright line,
     * epidermis entry echo x3) and the HFUS appearance table (tissue.md 2c). */

    /* Coupling gel ~ water at 37 C: Marczak 1997 / Chen-Millero 1978 (tissue.md 2a). */
    tt.t[TISSUE_GEL] = (tissue_props){1524, 993, 0.0022, 1.0, 0.0};
    /* Stratum corneum: dense keratin; whole skin ex vivo 1655 m/s, 1131 kg/m3 (Bioeng 2025).
     * Attenuation as dermis (Lebertre 2002) for lack of a separate figure. */
    tt.t[TISSUE_STRATUM_CORNEUM] = (tissue_props){1655, 1131, 1.06, 1.0, 3.0};
    /* Viable epidermis: skin compilation 1615 m/s, 1090 kg/m3 (Mech Mater 2012). */
    tt.t[TISSUE_EPIDERMIS] = (tissue_props){1615, 1090, 1.06, 1.0, 2.0};
    /* Dermis: 1615 m/s, 1090 kg/m3 (Mech Mater 2012); 1.06 dB/cm/MHz (Lebertre 2002). */
    tt.t[TISSUE_DERMIS] = (tissue_props){1615, 1090, 1.06, 1.0, 1.0};
    /* Fat: 1462 m/s, 927 kg/m3 (Bioeng 2025); 0.8 dB/cm/MHz (Sensors 2023). -14 dB. */
    tt.t[TISSUE_FAT] = (tissue_props){1462, 927, 0.8, 1.0, 0.2};
    /* Superficial fascia: ligament proxy 1664 m/s, 1101 kg/m3; connective tissue 1.57 dB/cm
     * at 1 MHz (Bioeng 2025; Diagnostics 2023). Bright line: +12 dB (reference run). */
    tt.t[TISSUE_SUPERFICIAL_FASCIA] = (tissue_props){1664, 1101, 1.57, 1.0, 3.0};
    tt.t[TISSUE_DEEP_FAT] = tt.t[TISSUE_FAT];
    /* Thoracolumbar fascia: tendon proxy 1827 m/s, 1121 kg/m3 (Bioeng 2025). */
    tt.t[TISSUE_DEEP_FASCIA] = (tissue_props){1827, 1121, 1.57, 1.0, 4.0};
    /* Muscle across fibres: 1562 m/s, 1058 kg/m3, 0.96 dB/cm at 1 MHz (Bioeng 2025;
     * Diagnostics 2023). -6 dB against dermis (reference run), perimysium adds texture. */
    tt.t[TISSUE_MUSCLE] = (tissue_props){1562, 1058, 0.96, 1.0, 0.5};
    /* Blood: ~1570 m/s (weak source), density assumed 1055; 0.15 dB/cm at 1 MHz
     * (Diagnostics 2023). Anechoic at these frequencies: -40 dB. */
    tt.t[TISSUE_BLOOD] = (tissue_props){1570, 1055, 0.15, 1.0, 0.01};
    /* Vessel wall: connective tissue as the superficial fascia; bright walls. */
    tt.t[TISSUE_VESSEL_WALL] = (tissue_props){1664, 1101, 1.57, 1.0, 2.5};
    /* Injected liquid / cyst content: water at 37 C (tissue.md treats saline and 2 %
     * lidocaine as water). Anechoic. */
    tt.t[TISSUE_FLUID] = (tissue_props){1524, 993, 0.0022, 1.0, 0.0};
    /* O2-O3 mix ~ O2 at 37 C: 336 m/s, 1.26 kg/m3 (ideal gas, calc.); air 7.5 dB/cm at 1 MHz. */
    tt.t[TISSUE_GAS] = (tissue_props){336, 1.26, 7.5, 1.0, 0.0};
    /* Stainless steel 347: 5790 m/s, 7910 kg/m3 (ASTM E494); attenuation negligible. */
    tt.t[TISSUE_STEEL] = (tissue_props){5790, 7910, 0.0, 1.0, 0.0};
    /* Fresh haematoma: hypoechoic blood collection (BSU page, tissue.md section 3); acoustic
     * properties of blood, some clot scatter. */
    tt.t[TISSUE_HAEMATOMA] = (tissue_props){1570, 1055, 0.15, 1.0, 0.12};
    /* Cortical bone: 3432 m/s and 6.50 MRayl (Sensors 2023 Table A2), so 1894 kg/m3 (inside
     * the 1800-2200 range of Mech Mater 2012); 15 dB/cm at 1 MHz (Diagnostics 2023 Table 4):
     * at 18 MHz 27 dB per mm one way, the beam is gone within a millimetre (shared/reference/
     * anatomy.md section 3: bright line, then shadow). Backscatter of the inside: assumption,
     * as muscle; the shadow hides it. */
    tt.t[TISSUE_BONE] = (tissue_props){3432, 1894, 15.0, 1.0, 0.5};
    /* Tendon: 1130 kg/m3 (Mech Mater 2012 Table 3); 1650 m/s across the fibres, the way a
     * long-axis scan meets them (equine flexor tendon, JASA 1996;99:3225; anatomy.md 3).
     * Attenuation not retrieved (anatomy.md 3): connective tissue's 1.57 dB/cm at 1 MHz
     * (Diagnostics 2023), an assumption. Backscatter 2.0, four times muscle's: perpendicular
     * to the beam tendon is "clearly more echogenic than muscle" (Crass et al. 1988, Radiology
     * 167:499); the angle dependence (isoechoic at 2-7 deg, hypoechoic beyond) and the fibrils
     * are the synthesis's (BM_TENDON_* in bmode_model.h, phantom_texture_eval). */
    tt.t[TISSUE_TENDON] = (tissue_props){1650, 1130, 1.57, 1.0, 2.0};
    return tt;
}

const char *tissue_name(tissue_id id)
{
    if ((int)id < 0 || id >= TISSUE_COUNT)
        return "unknown";
    return k_names[id];
}

bool tissue_from_name(const char *name, tissue_id *out)
{
    if (!name)
        return false;
    for (int i = 0; i < TISSUE_COUNT; i++) {
        if (strcmp(name, k_names[i]) == 0) {
            *out = (tissue_id)i;
            return true;
        }
    }
    return false;
}

double tissue_impedance_mrayl(const tissue_props *p)
{
    return p->speed_m_s * p->density_kg_m3 * 1e-6;
}

double tissue_atten_db_mm(const tissue_props *p, double freq_mhz)
{
    return 0.1 * p->atten_db_cm_mhz * pow(freq_mhz, p->atten_exponent);
}
