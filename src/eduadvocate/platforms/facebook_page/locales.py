"""A captions file's language as the Facebook locale its file name carries.

Graph's ``POST /{video-id}/captions`` takes ``captions_file`` as SRT whose name is
``filename.{locale}.srt`` (Graph API reference, Video Captions,
developers.facebook.com/docs/graph-api/reference/video/captions). Facebook's locales are
``ll_CC``, a language and a country, except the umbrella locales ``ar_AR`` and ``es_LA``
("Localization", developers.facebook.com/docs/javascript/internationalization). A language
written with its country (``pt-BR``) is that locale when Facebook has it; a bare language
(``en``) is its usual locale below. Anything else has no locale: ``check`` says so at the file.
"""

from __future__ import annotations

# Facebook's locales (its FacebookLocales list, as the Localization page names it), by the
# locale a bare language stands for, then the others. A bare language picks the locale most of
# its readers on Facebook use: en_US, es_LA (Facebook's Spanish), pt_BR, zh_CN, ar_AR.
_DEFAULT = {
    "af": "af_ZA", "ar": "ar_AR", "az": "az_AZ", "be": "be_BY", "bg": "bg_BG", "bn": "bn_IN",
    "bs": "bs_BA", "ca": "ca_ES", "cs": "cs_CZ", "cy": "cy_GB", "da": "da_DK", "de": "de_DE",
    "el": "el_GR", "en": "en_US", "eo": "eo_EO", "es": "es_LA", "et": "et_EE", "eu": "eu_ES",
    "fa": "fa_IR", "fi": "fi_FI", "fo": "fo_FO", "fr": "fr_FR", "fy": "fy_NL", "ga": "ga_IE",
    "gl": "gl_ES", "gn": "gn_PY", "gu": "gu_IN", "ha": "ha_NG", "he": "he_IL", "hi": "hi_IN",
    "hr": "hr_HR", "ht": "ht_HT", "hu": "hu_HU", "hy": "hy_AM", "id": "id_ID", "is": "is_IS",
    "it": "it_IT", "ja": "ja_JP", "jv": "jv_ID", "ka": "ka_GE", "kk": "kk_KZ", "km": "km_KH",
    "kn": "kn_IN", "ko": "ko_KR", "ku": "ku_TR", "lt": "lt_LT", "lv": "lv_LV", "mg": "mg_MG",
    "mk": "mk_MK", "ml": "ml_IN", "mn": "mn_MN", "mr": "mr_IN", "ms": "ms_MY", "mt": "mt_MT",
    "my": "my_MM", "nb": "nb_NO", "ne": "ne_NP", "nl": "nl_NL", "nn": "nn_NO", "no": "nb_NO",
    "pa": "pa_IN", "pl": "pl_PL", "ps": "ps_AF", "pt": "pt_BR", "ro": "ro_RO", "ru": "ru_RU",
    "rw": "rw_RW", "si": "si_LK", "sk": "sk_SK", "sl": "sl_SI", "so": "so_SO", "sq": "sq_AL",
    "sr": "sr_RS", "sv": "sv_SE", "sw": "sw_KE", "ta": "ta_IN", "te": "te_IN", "tg": "tg_TJ",
    "th": "th_TH", "tl": "tl_PH", "tr": "tr_TR", "uk": "uk_UA", "ur": "ur_PK", "uz": "uz_UZ",
    "vi": "vi_VN", "zh": "zh_CN",
}  # fmt: skip
_OTHERS = frozenset({"en_GB", "es_ES", "es_MX", "es_CO", "es_CL", "es_VE", "fr_CA", "nl_BE",
                     "pt_PT", "zh_TW", "zh_HK"})  # fmt: skip
LOCALES = frozenset(_DEFAULT.values()) | _OTHERS
_SCRIPTS = {"hant": "zh_TW", "hans": "zh_CN"}  # Chinese written by its script (zh-Hant)


def facebook_locale(language: str) -> str | None:
    """``en`` → ``en_US``, ``pt-BR`` → ``pt_BR``, ``zh-Hant-TW`` → ``zh_TW``, ``es-419`` →
    ``es_LA``; None for a language Facebook has no locale for."""
    parts = [p.lower() for p in language.replace("_", "-").split("-") if p]
    if not parts:
        return None
    base = parts[0]
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), None)
    if region is not None and f"{base}_{region}" in LOCALES:
        return f"{base}_{region}"
    if base == "zh" and len(parts) > 1 and parts[1] in _SCRIPTS:
        return _SCRIPTS[parts[1]]
    return _DEFAULT.get(base)
